/// The objective's terms on network layers (content, style, histogram) and their evaluation from a
/// whole-image forward pass; `StyleTransferObjective+Strips.swift` evaluates the same terms by strips.
extension StyleTransferObjective {
    /// A content term (layer index, loss); a style term (layer index, loss, the buffer of its moments and
    /// their replacement); a histogram term (layer index, loss, the buffer of `F − R(F)`).
    typealias ContentTerm = (index: Int, loss: ContentLoss)
    typealias StyleTerm = (index: Int, loss: any LayerStyleLoss, moments: FloatBuffer)
    typealias HistogramTerm = (index: Int, loss: HistogramLoss, difference: FloatBuffer)
    typealias Injections = [(layer: Int, add: FeatureNetwork.GradientInjection)]

    /// The active terms of one evaluation.
    struct NetworkTerms {
        var content: [ContentTerm]
        var style: [StyleTerm]
        var histogram: [HistogramTerm]

        var isEmpty: Bool { content.isEmpty && style.isEmpty && histogram.isEmpty }
        /// The layers the terms read.
        var layers: Set<Int> { Set(content.map(\.index) + style.map(\.index) + histogram.map(\.index)) }

        /// The terms on `layers` only.
        func restricted(to layers: Set<Int>) -> NetworkTerms {
            NetworkTerms(content: content.filter { layers.contains($0.index) },
                         style: style.filter { layers.contains($0.index) },
                         histogram: histogram.filter { layers.contains($0.index) })
        }
    }

    /// The content and style losses (histogram terms count as style) of `terms` from the activations the
    /// last forward left in `evaluation`, and their gradient injections for the backward pass. Each loss
    /// adds its gradient into the network's running gradient when backward reaches its layer: no buffer
    /// the size of a layer per loss (136 MB at 512 px for the default layers), except the histogram's
    /// difference, which sorting makes necessary.
    func layerTerms(evaluation: NetworkEvaluation, _ terms: NetworkTerms) throws
        -> (content: Double, style: Double, injections: Injections) {
        var result = (content: 0.0, style: 0.0, injections: Injections())
        for (index, loss) in terms.content {
            let features = try evaluation.activationPointer(layer: index)
            result.content += loss.uncheckedLoss(features: features)
            result.injections.append((index, { loss.uncheckedAddGradient(features: features, to: $0) }))
        }
        for (index, loss, moments) in terms.style {
            let features = try evaluation.activationPointer(layer: index)
            let shape = evaluation.shape(ofLayer: index)!
            let positions = shape.height * shape.width
            moments.reserve(LayerMoments.count(channels: loss.channels))
            loss.uncheckedMoments(features: features, positions: positions, into: moments.pointer)
            result.injections.append((index, { [scratch] in
                loss.uncheckedGradient(features: features, positions: positions, wholePositions: positions,
                                       moments: moments.pointer, accumulating: true, into: $0, scratch: scratch)
            }))
        }
        result.style += try Self.styleLosses(replacingMomentsOf: terms.style)
        for (index, loss, difference) in terms.histogram {
            let count = loss.channels * loss.positions
            try Self.reserve(difference, count, for: "a histogram term")
            let features = try evaluation.withActivation(layer: index) { activation in
                guard activation.count == count else {
                    throw NSTError.state("histogram layer \(index) holds \(activation.count) values, its term \(count)")
                }
                return activation.baseAddress!
            }
            result.style += loss.uncheckedLoss(features: features, difference: difference.pointer)
            result.injections.append((index, { loss.uncheckedAddGradient(difference: difference.pointer, to: $0) }))
        }
        return result
    }

    /// The sum of the style terms' losses from the moments in their buffers (each replaced by what its
    /// gradient reads), the terms computed at the same time: a w2 term is single-threaded LAPACK work of
    /// order C³ (an eigendecomposition of its C×C matrix), so with two workers the two 512-channel layers
    /// run side by side. Summed in term order whatever the schedule.
    static func styleLosses(replacingMomentsOf terms: [StyleTerm]) throws -> Double {
        var losses = [Result<Double, any Error>](repeating: .success(0), count: terms.count)
        losses.withUnsafeMutableBufferPointer { losses in
            Parallel.forEach(costs: terms.map { Double($0.loss.channels * $0.loss.channels * $0.loss.channels) }) { k in
                losses[k] = Result { try terms[k].loss.uncheckedLoss(replacingMoments: terms[k].moments.pointer) }
            }
        }
        return try losses.reduce(0.0) { try $0 + $1.get() }
    }

    /// The style terms from `styleImages`: per style layer, the blend of the images without a region over
    /// `styleMask` (when there are such images), then each image with a region over it, scaled by its
    /// blend weight and by the convention's factor of the layer (so masks and regions work under either
    /// convention: each masked term is the neural-style one times that factor). Regions and masks come
    /// with the Gram loss only (`StyleLossKind.checkSupports`). Then the histogram terms, from the blend of
    /// every image's quantiles.
    func rebuildStyleLosses() throws {
        let layers = styleLayers.map(\.index)
        let blended = styleImages.filter { $0.region == nil }
        var terms: [(index: Int, loss: any LayerStyleLoss)] = []
        func addTerms(moments: (Int) throws -> [Float], region: SpatialMask?, scale: Double) throws {
            let masks = try region?.atLayers(layers, of: network)
            for (l, layer) in styleLayers.enumerated() {
                let shape = try network.outputShape(of: network.layers[layer.index].name, height: height, width: width)
                let conventionScale = convention.styleScale(channels: shape.channels, positions: shape.height * shape.width)
                let weight = Float(scale) * styleWeight * layer.weight * conventionScale
                let target = try moments(l)
                terms.append((layer.index, styleLoss == .wasserstein2
                    ? try WassersteinStyleLoss(weight: weight, channels: shape.channels, target: target)
                    : try StyleLoss(weight: weight, channels: shape.channels, target: Array(target.prefix(shape.channels * shape.channels)),
                                    region: masks?[layer.index], normalizesGradient: normalizeGradients)))
            }
        }
        if !blended.isEmpty {
            try addTerms(moments: { l in try StyleLoss.blend(blended.map { $0.moments[l] }, weights: blended.map(\.weight)) },
                         region: styleMask, scale: 1)
        }
        for image in styleImages {
            if let region = image.region { try addTerms(moments: { image.moments[$0] }, region: region, scale: image.weight) }
        }
        styleLosses = terms
        while styleMoments.count < terms.count { styleMoments.append(FloatBuffer()) }
        histogramLosses = !usesHistogram || styleImages.isEmpty ? [] : try histogramLayers.enumerated().map { l, layer in
            let target = try HistogramLoss.blend(styleImages.map { $0.quantiles[l] }, weights: styleImages.map(\.weight))
            return (layer.index, try HistogramLoss(weight: histogramWeight * layer.weight, channels: network.layers[layer.index].channels,
                                                   positions: try positions(ofLayer: layer.index), quantiles: target))
        }
    }

    /// Per histogram layer, the `HistogramLoss.quantiles` of `image` `[3, imageHeight, imageWidth]` at this
    /// objective's positions of the layer (a style image's histogram targets).
    func histogramQuantiles(of image: UnsafePointer<Float>, height imageHeight: Int, width imageWidth: Int) throws -> [[Float]] {
        let layers = histogramLayers.map(\.index)
        let features = try activations(of: image, height: imageHeight, width: imageWidth, layers: layers)
        return try zip(layers, features).map { layer, values in
            let (channels, count) = (network.layers[layer].channels, try positions(ofLayer: layer))
            try MemoryBudget.check(floats: channels * count, for: "a histogram target")
            return values.withUnsafeBufferPointer {
                HistogramLoss.quantiles(of: $0.baseAddress!, channels: channels, styleCount: values.count / channels, count: count)
            }
        }
    }

    /// Positions `H·W` of a layer at the objective's size.
    func positions(ofLayer layer: Int) throws -> Int {
        let s = try network.outputShape(of: network.layers[layer].name, height: height, width: width)
        return s.height * s.width
    }

    /// `buffer.reserve(count)` once the memory budget allows it.
    static func reserve(_ buffer: FloatBuffer, _ count: Int, for what: String) throws {
        if count > buffer.capacity { try MemoryBudget.check(floats: count, for: what) }
        buffer.reserve(count)
    }
}
