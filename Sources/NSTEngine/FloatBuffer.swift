import Glibc

/// A growable float buffer with reference identity, so several can be lent at once without
/// Swift's exclusive-access rules on an array of arrays getting in the way.
///
/// Buffers of `mappingThreshold` bytes or more are pages mapped for them alone and unmapped when
/// released, so their memory goes back to the system at once. Through malloc it need not: after the
/// first large free glibc raises its mmap threshold (up to 32 MB), later buffers below it come from the
/// heap, and freed ones stay resident; a strip evaluation, which releases each phase's buffers, then
/// peaked at about the sum of its phases rather than the largest (see `StripEvaluator`).
final class FloatBuffer {
    private(set) var pointer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private(set) var capacity = 0
    /// Bytes mapped for `pointer`; 0 when it came from `allocate`.
    private var mappedBytes = 0

    static let mappingThreshold = 1 << 20

    /// Ensures room for `count` floats; contents are not preserved when it grows.
    func reserve(_ count: Int) {
        guard count > capacity else { return }
        release()
        let bytes = count * MemoryLayout<Float>.stride
        if bytes >= Self.mappingThreshold,
           let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
           mapped != UnsafeMutableRawPointer(bitPattern: -1) {
            pointer = mapped.bindMemory(to: Float.self, capacity: count)
            mappedBytes = bytes
        } else {
            pointer = .allocate(capacity: count)
            mappedBytes = 0
        }
        capacity = count
    }

    private func release() {
        if mappedBytes > 0 {
            munmap(pointer, mappedBytes)
        } else {
            pointer.deallocate()
        }
    }

    deinit { release() }
}
