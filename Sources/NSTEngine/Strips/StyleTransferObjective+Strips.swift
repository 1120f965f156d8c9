/// The objective's evaluation strategy (see `EvaluationStrategy`): targets and the network's terms,
/// computed on the whole image or by strips with the same values.
extension StyleTransferObjective {
    /// Chooses how the network is evaluated from now on (default `.whole`). Targets already set stay: both
    /// strategies compute the same values. The buffers of the strategy left are released.
    /// - Throws: as `EvaluationStrategy.resolved` (unknown or non-pooling split layer, bad rows); the
    ///   strategy is unchanged on error.
    public func setStrategy(_ strategy: EvaluationStrategy) throws {
        let resolved = try strategy.resolved(in: network)
        guard strategy != self.strategy else { return }
        strips = resolved.map { StripEvaluator(network: network, split: $0.split, rows: $0.rows) }
        evaluation = NetworkEvaluation(network: network)
        self.strategy = strategy
    }

    /// The activations of `layers` for `image` `[3, height, width]` (content targets).
    func activations(of image: UnsafePointer<Float>, height: Int, width: Int, layers: [Int]) throws -> [[Float]] {
        let requested = Set(layers)
        guard let strips else {
            try network.forward(image: UnsafeBufferPointer(start: image, count: 3 * height * width), height: height,
                                width: width, requested: requested, pooling: pooling, evaluation: evaluation)
            return try layers.map { try evaluation.withActivation(layer: $0) { Array($0) } }
        }
        let plan = strips.plan(requested: requested, height: height)
        var stem: [Int: [Float]] = [:]
        for layer in plan.stemLayers {
            let s = try network.outputShape(of: network.layers[layer].name, height: height, width: width)
            try MemoryBudget.check(floats: s.channels * s.height * s.width, for: "a content target")
            stem[layer] = [Float](repeating: 0, count: s.channels * s.height * s.width)
        }
        try strips.forward(image: image, height: height, width: width, plan: plan, pooling: pooling) { layer in
            stem[layer.layer]!.withUnsafeMutableBufferPointer { StripEvaluator.gatherInterior(of: layer, into: $0.baseAddress!) }
        }
        return try layers.map { try stem[$0] ?? strips.deep.withActivation(layer: $0) { Array($0) } }
    }

    /// The normalised Gram matrices `G/N` of `layers` for `image` `[3, height, width]` (style targets),
    /// over the positions `masks` cover when given (one per layer, whole-image evaluation only).
    /// - Throws: `NSTError.state` for masks with strips, and as the network's forward.
    func normalizedGrams(of image: UnsafePointer<Float>, height: Int, width: Int, layers: [Int],
                         masks: [Int: LayerMask]? = nil) throws -> [[Float]] {
        let requested = Set(layers)
        guard let strips else {
            try network.forward(image: UnsafeBufferPointer(start: image, count: 3 * height * width), height: height,
                                width: width, requested: requested, pooling: pooling, evaluation: evaluation)
            return try layers.map { try Self.normalizedGram(of: $0, in: evaluation, region: masks?[$0]) }
        }
        guard masks == nil else { throw NSTError.state("a style image mask needs the whole-image evaluation, not strips") }
        let plan = strips.plan(requested: requested, height: height)
        var stem: [Int: [Float]] = [:]
        try strips.forward(image: image, height: height, width: width, plan: plan, pooling: pooling) { layer in
            let started = stem[layer.layer] != nil
            if !started { stem[layer.layer] = [Float](repeating: 0, count: layer.channels * layer.channels) }
            stem[layer.layer]!.withUnsafeMutableBufferPointer {
                Self.accumulateGram(of: layer, accumulating: started, into: $0.baseAddress!)
            }
        }
        return try layers.map { try stem[$0] ?? Self.normalizedGram(of: $0, in: strips.deep) }
    }

    /// `G/N` of a layer the last forward of `evaluation` computed.
    private static func normalizedGram(of layer: Int, in evaluation: NetworkEvaluation, region: LayerMask? = nil) throws -> [Float] {
        try evaluation.withActivation(layer: layer) { f in
            let s = evaluation.shape(ofLayer: layer)!
            return StyleLoss.normalizedGram(features: f.baseAddress!, channels: s.channels, positions: s.height * s.width,
                                            region: region)
        }
    }

    /// Adds the strip interior's share of the whole layer's `G/N` to `gram` (writes it when not `accumulating`).
    private static func accumulateGram(of layer: StripEvaluator.StemLayer, accumulating: Bool,
                                       into gram: UnsafeMutablePointer<Float>) {
        let interior = layer.rows.interiorInWindow
        GramMatrix.forward(features: layer.features + interior.lowerBound * layer.width, channels: layer.channels,
                           positions: interior.count * layer.width, planeStride: layer.rows.window.count * layer.width,
                           alpha: 1 / Float(layer.channels * layer.wholePositions), accumulating: accumulating,
                           gram: gram)
    }

    /// The content and style terms of the network by strips, and the function writing their gradient with
    /// respect to the image (overwriting) once the caller has checked the losses.
    func networkTermsByStrips(image: UnsafePointer<Float>, strips: StripEvaluator, content: [ContentTerm],
                              style: [StyleTerm]) throws
        -> (content: Double, style: Double, backward: (UnsafeMutableBufferPointer<Float>) throws -> Void) {
        let plan = strips.plan(requested: Set(content.map(\.index) + style.map(\.index)), height: height)
        var squaredErrors = [Double](repeating: 0, count: content.count)
        var started = Set<Int>()
        for term in style { term.gramGradient.reserve(term.loss.channels * term.loss.channels) }
        try strips.forward(image: image, height: height, width: width, plan: plan, pooling: pooling) { layer in
            for (n, term) in content.enumerated() where term.index == layer.layer {
                squaredErrors[n] += term.loss.uncheckedSquaredError(interiorOf: layer)
            }
            for (k, term) in style.enumerated() where term.index == layer.layer {
                Self.accumulateGram(of: layer, accumulating: started.contains(k), into: term.gramGradient.pointer)
                started.insert(k)
            }
        }
        let deepContent = content.filter { plan.deepLayers.contains($0.index) }
        let deepStyle = style.filter { plan.deepLayers.contains($0.index) }
        var terms: (content: Double, style: Double, injections: [(layer: Int, add: FeatureNetwork.GradientInjection)])
        if plan.split != nil {
            terms = try layerTerms(evaluation: strips.deep, content: deepContent, style: deepStyle)
        } else {
            terms = (0, 0, [])
        }
        for (n, term) in content.enumerated() where !plan.deepLayers.contains(term.index) {
            terms.content += term.loss.loss(fromSquaredError: squaredErrors[n])
        }
        for term in style where !plan.deepLayers.contains(term.index) {
            terms.style += term.loss.uncheckedLoss(replacingNormalizedGram: term.gramGradient.pointer)
        }
        let injections = terms.injections
        let backward = { [self] (gradient: UnsafeMutableBufferPointer<Float>) in
            try strips.backward(image: image, height: height, width: width, plan: plan, pooling: pooling,
                                deepInjections: injections, inject: { [scratch] layer, current in
                for term in content where term.index == layer.layer {
                    term.loss.uncheckedAddGradient(window: layer, to: current)
                }
                for term in style where term.index == layer.layer {
                    term.loss.uncheckedGradient(features: layer.features, positions: layer.rows.window.count * layer.width,
                                                gramPositions: layer.wholePositions, gramGradient: term.gramGradient.pointer,
                                                accumulating: true, into: current, scratch: scratch)
                }
            }, gradient: gradient.baseAddress!)
        }
        return (terms.content, terms.style, backward)
    }
}
