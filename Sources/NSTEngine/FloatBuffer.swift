/// A growable float buffer with reference identity, so several can be lent at once without
/// Swift's exclusive-access rules on an array of arrays getting in the way. Its storage is
/// `MappedMemory`: a strip evaluation, which releases each phase's buffers, peaked at about the sum of
/// its phases rather than the largest while large buffers came from malloc (see `StripEvaluator`).
final class FloatBuffer {
    private var memory: MappedMemory?
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity = 0

    init() {
        let memory = MappedMemory(byteCount: MemoryLayout<Float>.stride)
        (self.memory, pointer) = (memory, memory.pointer.bindMemory(to: Float.self, capacity: 1))
    }

    /// Ensures room for `count` floats; contents are not preserved when it grows.
    func reserve(_ count: Int) {
        guard count > capacity else { return }
        memory = nil  // the old block goes before the new one comes
        let grown = MappedMemory(byteCount: count * MemoryLayout<Float>.stride)
        (memory, pointer) = (grown, grown.pointer.bindMemory(to: Float.self, capacity: count))
        capacity = count
    }
}
