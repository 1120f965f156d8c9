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

    /// The `LayerMoments` of `layers` for `image` `[3, height, width]` (style targets), over the positions
    /// `masks` cover when given (one per layer, whole-image evaluation only).
    /// - Throws: `NSTError.state` for masks with strips, and as the network's forward.
    func moments(of image: UnsafePointer<Float>, height: Int, width: Int, layers: [Int],
                 masks: [Int: LayerMask]? = nil) throws -> [[Float]] {
        let requested = Set(layers)
        guard !requested.isEmpty else { return [] }
        guard let strips else {
            try network.forward(image: UnsafeBufferPointer(start: image, count: 3 * height * width), height: height,
                                width: width, requested: requested, pooling: pooling, evaluation: evaluation)
            return try layers.map { try Self.moments(of: $0, in: evaluation, region: masks?[$0]) }
        }
        guard masks == nil else { throw NSTError.state("a style image mask needs the whole-image evaluation, not strips") }
        let plan = strips.plan(requested: requested, height: height)
        var stem: [Int: [Float]] = [:]
        try strips.forward(image: image, height: height, width: width, plan: plan, pooling: pooling) { layer in
            let started = stem[layer.layer] != nil
            if !started { stem[layer.layer] = [Float](repeating: 0, count: LayerMoments.count(channels: layer.channels)) }
            stem[layer.layer]!.withUnsafeMutableBufferPointer {
                Self.accumulateMoments(of: layer, accumulating: started, into: $0.baseAddress!)
            }
        }
        return try layers.map { try stem[$0] ?? Self.moments(of: $0, in: strips.deep) }
    }

    /// The moments of a layer the last forward of `evaluation` computed (over `region` when given).
    private static func moments(of layer: Int, in evaluation: NetworkEvaluation, region: LayerMask? = nil) throws -> [Float] {
        try evaluation.withActivation(layer: layer) { f in
            let s = evaluation.shape(ofLayer: layer)!
            return LayerMoments.of(features: f.baseAddress!, channels: s.channels, positions: s.height * s.width,
                                   region: region)
        }
    }

    /// Adds the strip interior's share of the whole layer's moments to `moments` (writes it when not `accumulating`).
    private static func accumulateMoments(of layer: StripEvaluator.StemLayer, accumulating: Bool,
                                          into moments: UnsafeMutablePointer<Float>) {
        let interior = layer.rows.interiorInWindow
        LayerMoments.accumulate(features: layer.features + interior.lowerBound * layer.width, channels: layer.channels,
                                positions: interior.count * layer.width, planeStride: layer.rows.window.count * layer.width,
                                wholePositions: layer.wholePositions, accumulating: accumulating, into: moments)
    }

    /// The content and style terms of the network by strips, and the function writing their gradient with
    /// respect to the image (overwriting) once the caller has checked the losses. A histogram term on a
    /// stem layer gathers the whole layer (its ranks need every position) into its difference buffer.
    func networkTermsByStrips(image: UnsafePointer<Float>, strips: StripEvaluator, terms: NetworkTerms) throws
        -> (content: Double, style: Double, backward: (UnsafeMutableBufferPointer<Float>) throws -> Void) {
        let (content, style, histogram) = (terms.content, terms.style, terms.histogram)
        let plan = strips.plan(requested: terms.layers, height: height)
        var squaredErrors = [Double](repeating: 0, count: content.count)
        var started = Set<Int>()
        for term in style { term.moments.reserve(LayerMoments.count(channels: term.loss.channels)) }
        for term in histogram where !plan.deepLayers.contains(term.index) {
            try Self.reserve(term.difference, term.loss.channels * term.loss.positions, for: "a histogram term")
        }
        try strips.forward(image: image, height: height, width: width, plan: plan, pooling: pooling) { layer in
            for (n, term) in content.enumerated() where term.index == layer.layer {
                squaredErrors[n] += term.loss.uncheckedSquaredError(interiorOf: layer)
            }
            for (k, term) in style.enumerated() where term.index == layer.layer {
                Self.accumulateMoments(of: layer, accumulating: started.contains(k), into: term.moments.pointer)
                started.insert(k)
            }
            for term in histogram where term.index == layer.layer {
                StripEvaluator.gatherInterior(of: layer, into: term.difference.pointer)
            }
        }
        var values: (content: Double, style: Double, injections: Injections) = (0, 0, [])
        if plan.split != nil {
            values = try layerTerms(evaluation: strips.deep, terms.restricted(to: plan.deepLayers))
        }
        for (n, term) in content.enumerated() where !plan.deepLayers.contains(term.index) {
            values.content += term.loss.loss(fromSquaredError: squaredErrors[n])
        }
        values.style += try Self.styleLosses(replacingMomentsOf: style.filter { !plan.deepLayers.contains($0.index) })
        for term in histogram where !plan.deepLayers.contains(term.index) {
            values.style += term.loss.uncheckedLoss(features: term.difference.pointer, difference: term.difference.pointer)
        }
        let injections = values.injections
        let backward = { [self] (gradient: UnsafeMutableBufferPointer<Float>) in
            try strips.backward(image: image, height: height, width: width, plan: plan, pooling: pooling,
                                deepInjections: injections, inject: { [scratch] layer, current in
                for term in content where term.index == layer.layer {
                    term.loss.uncheckedAddGradient(window: layer, to: current)
                }
                for term in style where term.index == layer.layer {
                    term.loss.uncheckedGradient(features: layer.features, positions: layer.rows.window.count * layer.width,
                                                wholePositions: layer.wholePositions, moments: term.moments.pointer,
                                                accumulating: true, into: current, scratch: scratch)
                }
                for term in histogram where term.index == layer.layer {
                    term.loss.uncheckedAddGradient(difference: term.difference.pointer, window: layer, to: current)
                }
            }, gradient: gradient.baseAddress!)
        }
        return (values.content, values.style, backward)
    }
}
