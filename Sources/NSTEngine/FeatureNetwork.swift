/// A VGG feature extractor: immutable weights, shareable across threads and sessions.
///
/// All per-call state (activations, gradient buffers, scratch) lives in a `NetworkEvaluation`
/// owned by the caller, so one network serves many concurrent sessions. A forward pass runs only
/// as deep as the deepest requested layer and keeps exactly what the backward pass needs.
public final class FeatureNetwork: Sendable {
    public let architecture: VGGArchitecture
    public let layers: [VGGArchitecture.Layer]
    /// The kernel of every conv layer, indexed like `layers` (nil for ReLU and pooling).
    let kernels: [(any Conv3x3Kernel)?]
    private let indexByName: [String: Int]

    /// Builds the network from OIHW conv weights keyed by conv layer name (`"conv1_1"`, ...).
    /// - Parameters:
    ///   - weights: one entry per conv layer of `architecture`, no others; `weight` is
    ///     `[out, in, 3, 3]`, `bias` `[out]`, all finite.
    ///   - kernelFactory: builds each layer's convolution (tests substitute `NaiveConv3x3`).
    /// - Throws: `NSTError.weightsFormat` for a missing, unexpected, wrongly-shaped or non-finite layer.
    public init(architecture: VGGArchitecture, weights: [String: (weight: [Float], bias: [Float])],
                kernelFactory: ([Float], [Float], Int, Int) throws -> any Conv3x3Kernel = {
                    try makeConv3x3Kernel(weight: $0, bias: $1, inChannels: $2, outChannels: $3)
                }) throws {
        let layers = architecture.layers
        let convNames = Set(architecture.convolutions.map(\.name))
        if let extra = weights.keys.sorted().first(where: { !convNames.contains($0) }) {
            throw NSTError.weightsFormat("unexpected layer '\(extra)' for \(architecture.rawValue)")
        }
        var kernels: [(any Conv3x3Kernel)?] = []
        for layer in layers {
            guard case .convolution(let inChannels, let outChannels) = layer.operation else {
                kernels.append(nil)
                continue
            }
            guard let entry = weights[layer.name] else {
                throw NSTError.weightsFormat("missing weights for layer '\(layer.name)'")
            }
            guard entry.weight.count == outChannels * inChannels * 9, entry.bias.count == outChannels else {
                throw NSTError.weightsFormat("layer '\(layer.name)' needs weight [\(outChannels), \(inChannels), 3, 3] and bias [\(outChannels)], got \(entry.weight.count) and \(entry.bias.count) values")
            }
            guard entry.weight.allSatisfy(\.isFinite), entry.bias.allSatisfy(\.isFinite) else {
                throw NSTError.weightsFormat("layer '\(layer.name)' holds NaN or infinity")
            }
            kernels.append(try kernelFactory(entry.weight, entry.bias, inChannels, outChannels))
        }
        self.architecture = architecture
        self.layers = layers
        self.kernels = kernels
        self.indexByName = Dictionary(uniqueKeysWithValues: layers.enumerated().map { ($1.name, $0) })
    }

    /// Layer names in network order.
    public var layerNames: [String] { layers.map(\.name) }

    /// Position of `name` in `layerNames`, or nil.
    public func layerIndex(_ name: String) -> Int? { indexByName[name] }

    /// Shape `[channels, height, width]` of a layer's output for an input image of `height x width`.
    /// - Throws: `NSTError.unknownLayer`, or `NSTError.shape` if the image is too small to reach the layer.
    public func outputShape(of name: String, height: Int, width: Int) throws -> (channels: Int, height: Int, width: Int) {
        guard let index = layerIndex(name) else { throw NSTError.unknownLayer(name) }
        return try shapes(upTo: index, height: height, width: width)[index]
    }

    /// Output shapes of layers `0...last`; throws `NSTError.shape` when pooling empties the image.
    func shapes(upTo last: Int, height: Int, width: Int) throws -> [(channels: Int, height: Int, width: Int)] {
        guard height >= 1, width >= 1 else {
            throw NSTError.shape("image size must be at least 1x1, got \(height)x\(width)")
        }
        var result: [(channels: Int, height: Int, width: Int)] = []
        var h = height, w = width
        for layer in layers[0...last] {
            if layer.operation == .pool {
                h /= 2
                w /= 2
                guard h >= 1, w >= 1 else {
                    throw NSTError.shape("a \(height)x\(width) image is too small to reach layer '\(layers[last].name)': '\(layer.name)' would be empty")
                }
            }
            result.append((layer.channels, h, w))
        }
        return result
    }

    /// Whether conv layer `index` writes straight into the following ReLU's buffer (ReLU applied in
    /// place) instead of keeping its own output. A conv nobody asked for is never read again, since
    /// its input gradient needs no saved activations, so this saves a buffer and a pass over memory.
    func isFusedIntoReLU(_ index: Int, requested: Set<Int>, deepest: Int) -> Bool {
        guard case .convolution = layers[index].operation else { return false }
        return !requested.contains(index) && index < deepest && layers[index + 1].operation == .relu
    }

    /// Runs the network on `image` `[3, height, width]` up to the deepest of `requested` layers,
    /// leaving the activations of the requested layers (and what backward needs) in `evaluation`.
    /// - Throws: `NSTError.invalidArgument` (no layers, or an evaluation of another network),
    ///   `.shape` (image size), `.outOfMemory`.
    public func forward(image: UnsafeBufferPointer<Float>, height: Int, width: Int, requested: Set<Int>,
                        pooling: Pooling, evaluation: NetworkEvaluation) throws {
        guard image.count == 3 * height * width, let imagePointer = image.baseAddress else {
            throw NSTError.shape("image must hold 3x\(height)x\(width) = \(3 * height * width) values, got \(image.count)")
        }
        try prepareForward(after: -1, height: height, width: width, requested: requested, pooling: pooling,
                           evaluation: evaluation)
        forwardPrepared(input: imagePointer, evaluation: evaluation)
    }

    /// Sizes `evaluation` to run the layers after `start` (-1: from the image) up to the deepest requested
    /// one, for an image of `height x width`. From a layer, its output is kept in the evaluation
    /// (`NetworkEvaluation.startOutput`), to be filled by the caller before `forwardPrepared`.
    /// - Throws: as `forward(image:...)`; `.invalidArgument` when a requested layer is not after `start`.
    func prepareForward(after start: Int, height: Int, width: Int, requested: Set<Int>, pooling: Pooling,
                        evaluation: NetworkEvaluation) throws {
        guard evaluation.network === self else {
            throw NSTError.invalidArgument("the evaluation belongs to another network")
        }
        guard let deepest = requested.max(), requested.allSatisfy({ $0 > start && $0 < layers.count }) else {
            throw NSTError.invalidArgument("forward needs at least one valid layer after layer \(start)")
        }
        let shapes = try shapes(upTo: deepest, height: height, width: width)
        try evaluation.prepare(shapes: shapes, requested: requested, start: start, height: height, width: width,
                               pooling: pooling)
    }

    /// Runs the layers `prepareForward` sized `evaluation` for on `input`: the image, or the evaluation's
    /// own `startOutput`.
    func forwardPrepared(input start: UnsafePointer<Float>, evaluation: NetworkEvaluation) {
        guard let shapes = evaluation.shapes else { return }
        let requested = evaluation.requested
        let deepest = shapes.count - 1
        var input = start
        var i = evaluation.start + 1
        while i <= deepest {
            let shape = shapes[i]
            switch layers[i].operation {
            case .convolution:
                let output: UnsafeMutablePointer<Float>
                if isFusedIntoReLU(i, requested: requested, deepest: deepest) {
                    output = evaluation.outputs[i + 1]!.pointer
                    kernels[i]!.forwardReLU(input: input, output: output, height: shape.height, width: shape.width,
                                            scratch: evaluation.scratch)
                    i += 1
                } else {
                    output = evaluation.outputs[i]!.pointer
                    kernels[i]!.forward(input: input, output: output, height: shape.height, width: shape.width,
                                        scratch: evaluation.scratch)
                }
                input = UnsafePointer(output)
            case .relu:
                let output = evaluation.outputs[i]!.pointer
                LayerProfiler.measure(.reluForward) {
                    ReLU.forward(input: input, output: output, count: shape.channels * shape.height * shape.width)
                }
                input = UnsafePointer(output)
            case .pool:
                let inputShape = shapes[i - 1]
                let output = evaluation.outputs[i]!.pointer
                LayerProfiler.measure(.poolForward) {
                    evaluation.pooling.forward(input: input, output: output, channels: inputShape.channels,
                                    height: inputShape.height, width: inputShape.width)
                }
                input = UnsafePointer(output)
            }
            i += 1
        }
    }

    /// The gradient with respect to the image of `Σ_l <gradient_l, activation_l>`, i.e. backward
    /// from gradients injected at several layers of the last `forward`.
    /// - Parameters:
    ///   - injected: (layer index, gradient) pairs; each layer must have been requested in the
    ///     last forward and each gradient must have that layer's output size. Repeated layers add.
    ///   - gradImage: receives `[3, height, width]`.
    /// - Throws: `NSTError.state` (no forward, or a layer not requested), `.shape` (wrong sizes).
    public func backward(injected: [(layer: Int, gradient: UnsafeBufferPointer<Float>)],
                         evaluation: NetworkEvaluation, gradImage: UnsafeMutableBufferPointer<Float>) throws {
        for (layer, gradient) in injected {
            guard let s = evaluation.shape(ofLayer: layer) else { continue }  // reported by the call below
            guard gradient.count == s.channels * s.height * s.width, gradient.baseAddress != nil else {
                throw NSTError.shape("gradient for '\(layers[layer].name)' must hold \(s.channels * s.height * s.width) values, got \(gradient.count)")
            }
        }
        try backward(adding: injected.map { layer, gradient in
            (layer, { current in
                let g = gradient.baseAddress!
                Parallel.forEachRange(gradient.count) { range in
                    for j in range { current[j] += g[j] }
                }
            })
        }, evaluation: evaluation, gradImage: gradImage)
    }

    /// Adds a gradient with respect to one layer's output to the running gradient there (that layer's
    /// shape), e.g. a style loss's, computed straight into it with no buffer of its own.
    public typealias GradientInjection = (_ gradient: UnsafeMutablePointer<Float>) -> Void

    /// As `backward(injected:evaluation:gradImage:)`, with each injected gradient added by a function
    /// when the backward pass reaches its layer. After a forward from a layer (`prepareForward(after:)`),
    /// `gradImage` receives the gradient with respect to that layer's output instead of the image.
    /// - Throws: `NSTError.state` (no forward, or a layer not requested), `.shape` (wrong sizes).
    public func backward(adding injected: [(layer: Int, add: GradientInjection)],
                         evaluation: NetworkEvaluation, gradImage: UnsafeMutableBufferPointer<Float>) throws {
        guard evaluation.network === self else {
            throw NSTError.invalidArgument("the evaluation belongs to another network")
        }
        guard let shapes = evaluation.shapes else { throw NSTError.state("backward needs a forward pass first") }
        let imageCount = evaluation.inputCount
        guard gradImage.count == imageCount, let gradImagePointer = gradImage.baseAddress else {
            throw NSTError.shape("image gradient must hold \(imageCount) values, got \(gradImage.count)")
        }
        for (layer, _) in injected where !evaluation.requested.contains(layer) {
            throw NSTError.state("layer \(layer) was not requested in the last forward pass")
        }
        guard let top = injected.map(\.layer).max() else {
            gradImagePointer.update(repeating: 0, count: imageCount)
            return
        }

        var current = evaluation.gradientBuffers.0.pointer
        var spare = evaluation.gradientBuffers.1.pointer
        let topShape = shapes[top]
        current.update(repeating: 0, count: topShape.channels * topShape.height * topShape.width)
        // A ReLU feeding a pool with no gradient injected at it is done inside the pool's backward, and a
        // ReLU fed by a conv with no gradient injected at the conv inside the conv's backward.
        var reluDoneByPool = -1
        var reluForConv: UnsafePointer<Float>?
        for i in stride(from: top, to: evaluation.start, by: -1) {
            let shape = shapes[i]
            for (layer, add) in injected where layer == i { LayerProfiler.measure(.lossBackward) { add(current) } }
            switch layers[i].operation {
            case .relu:
                if i == reluDoneByPool { break }
                let activation = UnsafePointer(evaluation.outputs[i]!.pointer)
                if i - 1 > evaluation.start, case .convolution = layers[i - 1].operation, !injected.contains(where: { $0.layer == i - 1 }) {
                    reluForConv = activation
                    break
                }
                LayerProfiler.measure(.reluBackward) {
                    ReLU.backward(activation: activation, gradOutput: current, gradInput: current,
                                  count: shape.channels * shape.height * shape.width)
                }
            case .convolution:
                if let activation = reluForConv {
                    kernels[i]!.backwardInputThroughReLU(activation: activation, gradient: current, gradInput: spare,
                                                         height: shape.height, width: shape.width,
                                                         scratch: evaluation.scratch)
                    reluForConv = nil
                } else {
                    kernels[i]!.backwardInput(gradOutput: current, gradInput: spare, height: shape.height,
                                              width: shape.width, scratch: evaluation.scratch)
                }
                swap(&current, &spare)
            case .pool:
                let inputShape = shapes[i - 1]
                let fuseReLU = i - 1 > evaluation.start && layers[i - 1].operation == .relu
                    && !injected.contains { $0.layer == i - 1 }
                if fuseReLU { reluDoneByPool = i - 1 }
                LayerProfiler.measure(.poolBackward) {
                    evaluation.pooling.backward(input: evaluation.outputs[i - 1]!.pointer, gradOutput: current,
                                                gradInput: spare, channels: inputShape.channels,
                                                height: inputShape.height, width: inputShape.width,
                                                applyingReLUMask: fuseReLU)
                }
                swap(&current, &spare)
            }
        }
        gradImagePointer.update(from: current, count: imageCount)
    }
}
