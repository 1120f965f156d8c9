import Foundation

/// Reusable float buffers for one evaluation context, so repeated forward/backward passes do not
/// allocate. Buffers are addressed by small integer slots, grow on demand and never shrink.
///
/// Not thread-safe: each `NetworkEvaluation` owns its own instance.
public final class ScratchSpace {
    private var slots: [(pointer: UnsafeMutablePointer<Float>, capacity: Int)] = []

    public init() {}

    deinit {
        for slot in slots { slot.pointer.deallocate() }
    }

    /// A buffer of at least `count` floats for `slot`. Contents are unspecified; the pointer stays
    /// valid until the next call for the same slot with a larger `count`, or until deinit.
    public func buffer(_ slot: Int, count: Int) -> UnsafeMutablePointer<Float> {
        while slots.count <= slot {
            slots.append((UnsafeMutablePointer<Float>.allocate(capacity: 1), 1))
        }
        if slots[slot].capacity < count {
            slots[slot].pointer.deallocate()
            slots[slot] = (UnsafeMutablePointer<Float>.allocate(capacity: count), count)
        }
        return slots[slot].pointer
    }

    /// Total floats currently held, for memory diagnostics.
    public var capacity: Int { slots.reduce(0) { $0 + $1.capacity } }
}

/// Refuses allocations that depend on caller-chosen sizes when they cannot fit, so a huge image
/// yields `NSTError.outOfMemory` instead of the process being killed mid-allocation.
public enum MemoryBudget {
    /// Physical memory the engine may still claim: `MemAvailable` from /proc/meminfo on Linux,
    /// falling back to the machine's physical memory where that file does not exist.
    public static func availableBytes() -> UInt64 {
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
                let fields = line.split(separator: " ")
                if fields.count >= 2, let kib = UInt64(fields[1]) { return kib * 1024 }
            }
        }
        return ProcessInfo.processInfo.physicalMemory
    }

    /// - Throws: `NSTError.outOfMemory` naming `purpose` when `floats` float32 values exceed `availableBytes()`.
    public static func check(floats: Int, for purpose: String) throws {
        let bytes = UInt64(max(0, floats)).multipliedReportingOverflow(by: 4)
        let available = availableBytes()
        if bytes.overflow || bytes.partialValue > available {
            throw NSTError.outOfMemory("\(purpose) needs about \(bytes.partialValue >> 20) MiB, only \(available >> 20) MiB available")
        }
    }
}
