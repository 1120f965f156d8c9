import Foundation

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
