import Glibc

/// Refuses allocations that depend on caller-chosen sizes when they cannot fit, so a huge image
/// yields `NSTError.outOfMemory` instead of the process being killed mid-allocation.
public enum MemoryBudget {
    /// Physical memory the engine may still claim: `MemAvailable` from /proc/meminfo on Linux,
    /// falling back to the machine's physical memory where that file does not exist.
    public static func availableBytes() -> UInt64 {
        if let text = text(of: "/proc/meminfo") {
            for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
                let fields = line.split(separator: " ")
                if fields.count >= 2, let kib = UInt64(fields[1]) { return kib * 1024 }
            }
        }
        return physicalBytes()
    }

    /// The machine's physical memory (computed as `ProcessInfo.physicalMemory` computes it on Linux).
    private static func physicalBytes() -> UInt64 {
        UInt64(max(0, sysconf(Int32(_SC_PHYS_PAGES)))) * UInt64(max(0, sysconf(Int32(_SC_PAGESIZE))))
    }

    /// The whole content of a small text file such as /proc/meminfo (whose size `stat` reports as 0,
    /// so it is read until end of file), or nil when it cannot be read.
    private static func text(of path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
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
