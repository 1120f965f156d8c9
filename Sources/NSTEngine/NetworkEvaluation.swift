/// The per-caller state of `FeatureNetwork.forward`/`backward`: saved activations, gradient
/// buffers and convolution scratch. Buffers are kept between calls and only grow, so repeated
/// evaluations at one image size allocate nothing. Not thread-safe: one per session or thread.
public final class NetworkEvaluation {
    public let network: FeatureNetwork
    let scratch = ScratchSpace()
    /// Output of each layer of the last forward, indexed like `network.layers`; nil for layers
    /// not computed or fused away.
    private(set) var outputs: [FloatBuffer?]
    private(set) var shapes: [(channels: Int, height: Int, width: Int)]?
    private(set) var requested: Set<Int> = []
    private(set) var height = 0
    private(set) var width = 0
    private(set) var pooling = Pooling.max
    private(set) var gradientBuffers = (FloatBuffer(), FloatBuffer())

    public init(network: FeatureNetwork) {
        self.network = network
        self.outputs = Array(repeating: nil, count: network.layers.count)
    }

    /// Layer whose output the last forward started from; -1 for the image.
    private(set) var start = -1
    /// Values of the input the last forward started from: the image or layer `start`'s output.
    var inputCount: Int { EvaluationFootprint.inputCount(shapes: shapes ?? [], start: start, height: height, width: width) }
    /// Layer `start`'s output, which the caller of `prepareForward(after:)` fills.
    var startOutput: UnsafeMutablePointer<Float>? { start >= 0 ? outputs[start]?.pointer : nil }

    /// Sizes the buffers (see `EvaluationFootprint`) for a forward pass after layer `start`, refusing
    /// with `NSTError.outOfMemory` when the growth would not fit in available memory.
    func prepare(shapes: [(channels: Int, height: Int, width: Int)], requested: Set<Int>, start: Int,
                 height: Int, width: Int, pooling: Pooling) throws {
        let footprint = EvaluationFootprint(network: network, shapes: shapes, requested: requested, start: start,
                                            height: height, width: width)
        let growth = zip(footprint.outputs, outputs).reduce(0) { sum, pair in
            sum + max(0, (pair.0 ?? 0) - (pair.1?.capacity ?? 0))
        } + 2 * max(0, footprint.gradient - gradientBuffers.0.capacity) + footprint.scratch
        try MemoryBudget.check(floats: growth, for: "a \(height)x\(width) network evaluation")

        self.shapes = nil  // invalid until every buffer is in place
        for i in 0..<network.layers.count {
            if let count = footprint.outputs[i] {
                let buffer = outputs[i] ?? FloatBuffer()
                buffer.reserve(count)
                outputs[i] = buffer
            } else {
                outputs[i] = nil
            }
        }
        gradientBuffers.0.reserve(footprint.gradient)
        gradientBuffers.1.reserve(footprint.gradient)
        self.shapes = shapes
        self.requested = requested
        self.start = start
        self.height = height
        self.width = width
        self.pooling = pooling
    }

    /// Shape of a layer computed by the last forward pass, or nil.
    public func shape(ofLayer index: Int) -> (channels: Int, height: Int, width: Int)? {
        guard let shapes, index >= 0, index < shapes.count else { return nil }
        return shapes[index]
    }

    /// Lends the activation of a layer requested in the last forward pass.
    /// - Throws: `NSTError.state` when the layer was not requested.
    public func withActivation<R>(layer index: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) throws -> R {
        guard requested.contains(index), let shape = shape(ofLayer: index), let buffer = outputs[index] else {
            throw NSTError.state("layer \(index) was not requested in the last forward pass")
        }
        return try body(UnsafeBufferPointer(start: buffer.pointer, count: shape.channels * shape.height * shape.width))
    }

    /// The activation of a layer requested in the last forward pass, valid until the next `forward`
    /// with this evaluation.
    /// - Throws: `NSTError.state` when the layer was not requested.
    func activationPointer(layer index: Int) throws -> UnsafePointer<Float> {
        try withActivation(layer: index) { UnsafePointer($0.baseAddress!) }
    }
}
