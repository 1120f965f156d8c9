/// The float buffers a `NetworkEvaluation` holds for one forward/backward configuration: the one source
/// of the sizes `NetworkEvaluation.prepare` allocates and of the sums `MemoryPrediction` makes.
struct EvaluationFootprint {
    /// Floats of each layer's kept output, indexed like the network's layers; nil when not kept.
    let outputs: [Int?]
    /// Floats of each of the two gradient buffers (the largest layer run, or the input).
    let gradient: Int
    /// Floats of convolution scratch: per `ScratchSpace` slot the most any layer run takes, summed.
    let scratch: Int
    /// Floats the network's kernels build on first use for these planes (shared by all evaluations).
    let built: Int

    /// For a forward after layer `start` (-1: the image) with `shapes` of layers `0...deepest`.
    init(network: FeatureNetwork, shapes: [(channels: Int, height: Int, width: Int)], requested: Set<Int>,
         start: Int, height: Int, width: Int) {
        let deepest = shapes.count - 1
        var outputs: [Int?] = Array(repeating: nil, count: network.layers.count)
        var largest = Self.inputCount(shapes: shapes, start: start, height: height, width: width)
        var slots: [ScratchSlot: Int] = [:]
        var built = 0
        for i in max(0, start)...deepest {
            let s = shapes[i]
            let count = s.channels * s.height * s.width
            if i == start {
                outputs[i] = count  // the input of the layers run, and of the next pool's backward
                continue
            }
            largest = max(largest, count)
            if !network.isFusedIntoReLU(i, requested: requested, deepest: deepest) { outputs[i] = count }
            let needed: [ScratchSlot: Int]
            switch network.kernels[i] {
            case let kernel as WinogradConv3x3:
                needed = kernel.scratchFloats(height: s.height, width: s.width)
                built += kernel.builtFloats(width: s.width)
            case let kernel as Im2colConv3x3:
                needed = kernel.scratchFloats(height: s.height, width: s.width)
            default:
                needed = [:]  // no convolution, or a kernel without scratch (the tests' reference)
            }
            slots.merge(needed, uniquingKeysWith: max)
        }
        self.outputs = outputs
        self.gradient = largest
        self.scratch = slots.values.reduce(0, +)
        self.built = built
    }

    /// Values of the input of a forward after `start`: the image `3 x height x width`, or layer `start`'s output.
    static func inputCount(shapes: [(channels: Int, height: Int, width: Int)], start: Int, height: Int, width: Int) -> Int {
        guard start >= 0, start < shapes.count else { return 3 * height * width }
        return shapes[start].channels * shapes[start].height * shapes[start].width
    }

    /// Floats a forward pass touches: kept outputs and scratch (the gradient buffers are reserved by
    /// `prepare` but written only by a backward pass).
    var forwardFloats: Int { outputs.reduce(0) { $0 + ($1 ?? 0) } + scratch }
    /// Floats the evaluation holds after a backward pass: kept outputs, two gradient buffers, scratch.
    var floats: Int { forwardFloats + 2 * gradient }
}
