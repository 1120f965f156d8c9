import Glibc

/// A fixed block of raw memory whose large sizes are pages mapped for it alone and unmapped when it is
/// released, so their memory goes back to the system at once.
///
/// Through malloc it need not: after the first large free glibc raises its mmap threshold (up to
/// 32 MB), later blocks below it come from the heap, and freed ones can stay resident. The engine's
/// memory prediction (`MemoryPrediction`) counts what is alive, so buffers that come and go during a
/// render (strip phases, L-BFGS pairs of each scale) use this storage.
final class MappedMemory {
    let pointer: UnsafeMutableRawPointer
    let byteCount: Int
    /// Whether `pointer` is a mapping (else it came from `allocate`).
    private let mapped: Bool

    /// Blocks of this many bytes or more are mapped.
    static let mappingThreshold = 1 << 20

    /// `byteCount` bytes (at least 1), 64-byte aligned, contents undefined (zero when mapped).
    init(byteCount: Int) {
        let bytes = max(1, byteCount)
        if bytes >= Self.mappingThreshold,
           let address = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
           address != UnsafeMutableRawPointer(bitPattern: -1) {
            (pointer, mapped) = (address, true)
        } else {
            (pointer, mapped) = (.allocate(byteCount: bytes, alignment: 64), false)
        }
        self.byteCount = bytes
    }

    deinit {
        if mapped {
            munmap(pointer, byteCount)
        } else {
            pointer.deallocate()
        }
    }
}
