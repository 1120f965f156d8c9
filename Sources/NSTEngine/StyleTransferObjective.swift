/// The weighted terms of one objective evaluation (see docs/ARCHITECTURE.md, "Objective").
public struct ObjectiveLosses: Sendable, Equatable {
    public var content: Double
    public var style: Double
    public var tv: Double
    /// The temporal-consistency term (`StyleTransferSession.setTemporalTarget`), 0 without one.
    public var temporal: Double
    public var total: Double { content + style + tv + temporal }

    public init(content: Double, style: Double, tv: Double, temporal: Double = 0) {
        self.content = content
        self.style = style
        self.tv = tv
        self.temporal = temporal
    }
}

/// The Gatys et al. objective for one image size: content, style and total-variation terms and
/// their gradient with respect to the image, in the model's input space.
///
/// Validates every input once at these public entry points and throws `NSTError` (never traps),
/// because it is reached from the C ABI. Not thread-safe: one per session.
public final class StyleTransferObjective {
    public let network: FeatureNetwork
    public let height: Int
    public let width: Int
    public let pooling: Pooling
    public let contentWeight: Float
    public let styleWeight: Float
    public let tvWeight: Float
    /// neural-style's `-normalize_gradients`: each content and style term's gradient with respect to its
    /// layer is divided by its L1 norm before its weight multiplies it (the losses are unchanged).
    public let normalizeGradients: Bool
    /// How the content and style terms are normalised (`ObjectiveConvention`).
    public let convention: ObjectiveConvention
    /// (layer index, layer weight) in the order given.
    let contentLayers: [(index: Int, weight: Float)]
    let styleLayers: [(index: Int, weight: Float)]
    /// The style term's kind; with `.gramAndHistogram` the histogram layers and weight add Risser's term.
    public let styleLoss: StyleLossKind
    let histogramLayers: [(index: Int, weight: Float)]
    public let histogramWeight: Float

    /// How the network is evaluated (`setStrategy`); the whole-image evaluation or the strip evaluator.
    public internal(set) var strategy = EvaluationStrategy.whole
    var evaluation: NetworkEvaluation
    var strips: StripEvaluator?
    let scratch = ScratchSpace()
    var contentLosses: [ContentLoss] = []
    /// One entry per style image: its `LayerMoments` (one per style layer), its `HistogramLoss.quantiles`
    /// at this objective's size (one per histogram layer, when used), blend weight, and the region of the
    /// generated image it is matched over (nil: blended with the others over `styleMask`).
    var styleImages: [(moments: [[Float]], quantiles: [[Float]], weight: Double, region: SpatialMask?)] = []
    /// The style terms (layer index, loss): per style layer, one for the blend of the styles without a
    /// region, and one per style with a region (see `rebuildStyleLosses`).
    var styleLosses: [(index: Int, loss: any LayerStyleLoss)] = []
    /// The histogram terms (layer index, loss), one per histogram layer when `usesHistogram`.
    var histogramLosses: [(index: Int, loss: HistogramLoss)] = []
    /// Per style term, the layer's moments and then what its loss replaces them by (`LayerStyleLoss`),
    /// kept from the loss to the backward pass of one evaluation.
    var styleMoments: [FloatBuffer] = []
    /// Per histogram layer, `F − R(F)`, kept from the loss to the backward pass (`HistogramLoss`).
    var histogramDifferences: [FloatBuffer] = []
    /// `setMasks`: the weighting of the content term and the region of the blended styles, nil for all ones.
    var contentMask: SpatialMask?
    var styleMask: SpatialMask?

    /// Largest accepted image side. The engine's copy of `NST_MAX_IMAGE_SIDE` in swiftnst.h (the engine
    /// cannot import the header); Tests/CBridgeTests checks that the two agree.
    public static let maxImageSide = 8192

    /// - Parameters:
    ///   - contentLayers, styleLayers: layer names with their weights (finite, >= 0, no repeats).
    ///   - contentWeight, styleWeight, tvWeight, histogramWeight: finite, >= 0.
    ///   - convention: how the content and style terms are normalised (what the weights multiply).
    ///   - styleLoss: the style term's kind; `histogramLayers` and `histogramWeight` are used (and their
    ///     layers' sizes checked) only with `.gramAndHistogram`. Only `.gram` combines with
    ///     `normalizeGradients` and the `.coursera` convention (`StyleLossKind.checkSupports`).
    /// - Throws: `NSTError.unknownLayer`, `.invalidArgument`, or `.shape` when `height x width`
    ///   is outside `1...maxImageSide` or too small to reach the deepest layer.
    public init(network: FeatureNetwork, height: Int, width: Int,
                contentLayers: [(name: String, weight: Float)], styleLayers: [(name: String, weight: Float)],
                contentWeight: Float, styleWeight: Float, tvWeight: Float, pooling: Pooling,
                normalizeGradients: Bool = false, convention: ObjectiveConvention = .neuralStyle,
                styleLoss: StyleLossKind = .gram, histogramLayers: [(name: String, weight: Float)] = [],
                histogramWeight: Float = 0) throws {
        try Self.checkSize(height: height, width: width, "image")
        if normalizeGradients { try styleLoss.checkSupports("normalize_gradients") }
        if convention != .neuralStyle { try styleLoss.checkSupports("the Coursera objective") }
        for (name, value) in [("content_weight", contentWeight), ("style_weight", styleWeight), ("tv_weight", tvWeight),
                              ("histogram_weight", histogramWeight)] {
            guard value.isFinite, value >= 0 else { throw NSTError.invalidArgument("\(name) must be finite and >= 0, got \(value)") }
        }
        func resolve(_ layers: [(name: String, weight: Float)], _ kind: String) throws -> [(index: Int, weight: Float)] {
            guard Set(layers.map(\.name)).count == layers.count else {
                throw NSTError.invalidArgument("\(kind) layers contain a repeated name")
            }
            return try layers.map { layer in
                guard let index = network.layerIndex(layer.name) else { throw NSTError.unknownLayer(layer.name) }
                guard layer.weight.isFinite, layer.weight >= 0 else {
                    throw NSTError.invalidArgument("weight of \(kind) layer '\(layer.name)' must be finite and >= 0, got \(layer.weight)")
                }
                return (index, layer.weight)
            }
        }
        self.contentLayers = try resolve(contentLayers, "content")
        self.styleLayers = try resolve(styleLayers, "style")
        self.histogramLayers = try resolve(histogramLayers, "histogram")
        let histogramChecked = styleLoss == .gramAndHistogram ? self.histogramLayers : []
        if let deepest = (self.contentLayers + self.styleLayers + histogramChecked).map(\.index).max() {
            _ = try network.shapes(upTo: deepest, height: height, width: width)
        }
        self.network = network
        self.height = height
        self.width = width
        self.pooling = pooling
        self.contentWeight = contentWeight
        self.styleWeight = styleWeight
        self.tvWeight = tvWeight
        self.normalizeGradients = normalizeGradients
        self.convention = convention
        self.styleLoss = styleLoss
        self.histogramWeight = histogramWeight
        self.evaluation = NetworkEvaluation(network: network)
        self.histogramDifferences = self.histogramLayers.map { _ in FloatBuffer() }
    }

    /// Whether the content term needs a content image (non-zero weight and at least one layer).
    var usesContent: Bool { contentWeight > 0 && !contentLayers.isEmpty }
    /// Whether the style term needs style images.
    var usesStyle: Bool { styleWeight > 0 && !styleLayers.isEmpty }
    /// Whether the histogram term is part of the objective (it needs style images too).
    var usesHistogram: Bool { styleLoss == .gramAndHistogram && histogramWeight > 0 && !histogramLayers.isEmpty }

    /// The layers the active terms read.
    var activeLayers: Set<Int> {
        Set((usesContent ? contentLayers.map(\.index) : []) + (usesStyle ? styleLayers.map(\.index) : [])
            + (usesHistogram ? histogramLayers.map(\.index) : []))
    }

    /// Whether a content or style image has been set.
    var hasTargets: Bool { !contentLosses.isEmpty || !styleImages.isEmpty }

    /// Number of style images added since creation or the last `clearStyles`.
    var styleImageCount: Int { styleImages.count }

    /// Sets the content target from `image` `[3, height, width]` (the objective's size).
    /// - Throws: `NSTError.shape`, `.numeric` (NaN/Inf), `.outOfMemory`.
    public func setContent(image: UnsafeBufferPointer<Float>) throws {
        try Self.checkImage(image, height: height, width: width)
        guard !contentLayers.isEmpty else { return }
        let targets = try activations(of: image.baseAddress!, height: height, width: width, layers: contentLayers.map(\.index))
        contentLosses = zip(contentLayers, targets).map { layer, target in
            let channels = network.layers[layer.index].channels
            let scale = convention.contentScale(channels: channels, positions: target.count / channels)
            return ContentLoss(weight: contentWeight * layer.weight * scale, target: target)
        }
        try rebuildContentLosses()
    }

    /// Adds a style image `[3, imageHeight, imageWidth]` (any size that reaches the deepest style
    /// layer) with blend weight `weight`. Without a `region`, the targets are the weight-normalised blend
    /// of all images without one, matched over `styleMask`; with a `region` (the generated image's size)
    /// the image has its own term, matched over that region only and scaled by `weight` (Gatys et al.
    /// 2017's spatial control). A `mask` (the style image's size, e.g. its alpha) restricts the image's
    /// Gram matrices to the positions it covers. Masks and regions need the `.gram` style loss.
    /// - Throws: `NSTError.invalidArgument` (weight not finite or <= 0; a mask value outside [0, 1] or a
    ///   mask that covers nothing at a style layer; a mask or region with another style loss), `.shape` (size outside `1...maxImageSide` on a side,
    ///   too small for the deepest style layer, or a wrong count), `.numeric` (NaN/Inf), `.state` (a
    ///   mask with strips), `.outOfMemory`.
    public func addStyle(image: UnsafeBufferPointer<Float>, height imageHeight: Int, width imageWidth: Int,
                         weight: Double, mask: [Float]? = nil, region: [Float]? = nil) throws {
        guard weight.isFinite, weight > 0 else {
            throw NSTError.invalidArgument("style blend weight must be finite and > 0, got \(weight)")
        }
        if mask != nil { try styleLoss.checkSupports("a style image mask (a style image's alpha)") }
        if region != nil { try styleLoss.checkSupports("style masks") }
        try Self.checkSize(height: imageHeight, width: imageWidth, "style image")
        try Self.checkImage(image, height: imageHeight, width: imageWidth)
        let imageMask = try mask.map { try SpatialMask(values: $0, height: imageHeight, width: imageWidth, "style image mask") }
        let outputRegion = try region.map { try SpatialMask(values: $0, height: height, width: width, "style region") }
        guard !styleLayers.isEmpty || usesHistogram else { return }
        let layers = styleLayers.map(\.index)
        let layerMasks = try imageMask.map { try $0.atLayers(layers, of: network) }
        for index in layers where layerMasks?[index]?.mass == 0 {
            throw NSTError.invalidArgument("the style image mask covers nothing at layer '\(network.layers[index].name)'")
        }
        let moments = try self.moments(of: image.baseAddress!, height: imageHeight, width: imageWidth,
                                       layers: layers, masks: layerMasks)
        let quantiles = usesHistogram ? try histogramQuantiles(of: image.baseAddress!, height: imageHeight, width: imageWidth) : []
        styleImages.append((moments, quantiles, weight, outputRegion))
        try rebuildStyleLosses()
    }

    /// Takes `other`'s content target (same content layers) or style images (same style layers): targets
    /// depend only on the layers, the network and the pooling, so a session that replaces one set of
    /// layers keeps the other target without keeping the images it came from.
    func adoptTargets(from other: StyleTransferObjective, content: Bool, style: Bool) throws {
        func same(_ a: [(index: Int, weight: Float)], _ b: [(index: Int, weight: Float)]) -> Bool {
            a.elementsEqual(b) { $0 == $1 } && other.network === network && other.pooling == pooling
        }
        (contentMask, styleMask) = (other.contentMask, other.styleMask)
        if content && same(other.contentLayers, contentLayers) && other.contentWeight == contentWeight
            && other.convention == convention {
            contentLosses = other.contentLosses
        }
        try rebuildContentLosses()
        if style && same(other.styleLayers, styleLayers) && same(other.histogramLayers, histogramLayers)
            && other.styleLoss == styleLoss && other.usesHistogram == usesHistogram && !other.styleImages.isEmpty {
            styleImages = other.styleImages
        }
        try rebuildStyleLosses()
    }

    /// Removes every style image.
    public func clearStyles() {
        styleImages.removeAll()
        styleLosses.removeAll()
        histogramLosses.removeAll()
    }

    /// Removes the style images added after the first `count` (undoing `addStyle` calls).
    func removeStyles(after count: Int) throws {
        styleImages.removeLast(styleImages.count - count)
        try rebuildStyleLosses()
    }

    /// Losses at `image` `[3, height, width]` and, when `gradient` is given (same size), their
    /// gradient with respect to the image (overwritten).
    /// - Throws: `NSTError.shape`, `.numeric` (NaN/Inf input, or a non-finite loss), `.state` (content or
    ///   style image missing for an active term), `.outOfMemory`.
    public func evaluate(image: UnsafeBufferPointer<Float>, gradient: UnsafeMutableBufferPointer<Float>?) throws -> ObjectiveLosses {
        try Self.checkImage(image, height: height, width: width)
        if let gradient, gradient.count != image.count || gradient.baseAddress == nil {
            throw NSTError.shape("gradient must hold \(image.count) values, got \(gradient.count)")
        }
        if usesContent && contentLosses.isEmpty { throw NSTError.state("no content image set") }
        if (usesStyle || usesHistogram) && styleImages.isEmpty { throw NSTError.state("no style image added") }
        if strips != nil && (usesMasks || normalizeGradients) {
            throw NSTError.state("spatial masks and gradient normalisation need the whole-image evaluation, not strips")
        }

        // Terms with zero weight are skipped entirely: no forward pass to their layers.
        let content: [ContentTerm] = usesContent ? zip(contentLayers, contentLosses).map { ($0.index, $1) } : []
        let style: [StyleTerm] = usesStyle
            ? styleLosses.enumerated().map { ($1.index, $1.loss, styleMoments[$0]) } : []
        let histogram: [HistogramTerm] = usesHistogram
            ? histogramLosses.enumerated().map { ($1.index, $1.loss, histogramDifferences[$0]) } : []
        let terms = NetworkTerms(content: content, style: style, histogram: histogram)
        var losses = ObjectiveLosses(content: 0, style: 0, tv: 0)
        var backward: ((UnsafeMutableBufferPointer<Float>) throws -> Void)?
        if !terms.isEmpty {
            if let strips {
                (losses.content, losses.style, backward) = try networkTermsByStrips(
                    image: image.baseAddress!, strips: strips, terms: terms)
            } else {
                try network.forward(image: image, height: height, width: width, requested: terms.layers,
                                    pooling: pooling, evaluation: evaluation)
                let values = try LayerProfiler.measure(.lossForward) { try layerTerms(evaluation: evaluation, terms) }
                (losses.content, losses.style) = (values.content, values.style)
                backward = { [network, evaluation] in
                    try network.backward(adding: values.injections, evaluation: evaluation, gradImage: $0)
                }
            }
        }

        let imagePointer = image.baseAddress!
        let tvGradient = scratch.buffer(.totalVariationGradient, count: image.count)
        losses.tv = LayerProfiler.measure(.lossForward) {
            TotalVariationLoss(weight: tvWeight).uncheckedEvaluate(
                image: imagePointer, channels: 3, height: height, width: width, gradient: tvGradient)
        }
        guard losses.total.isFinite else {
            throw NSTError.numeric("objective is not finite (content \(losses.content), style \(losses.style), tv \(losses.tv))")
        }

        if let gradient {
            let g = gradient.baseAddress!
            if let backward {
                try backward(gradient)
            } else {
                g.update(repeating: 0, count: image.count)
            }
            LayerProfiler.measure(.lossBackward) {
                for i in 0..<image.count { g[i] += tvGradient[i] }
            }
        }
        return losses
    }

    /// `NSTError.shape` naming the side of `what` that is outside `1...maxImageSide`.
    private static func checkSize(height: Int, width: Int, _ what: String) throws {
        for (side, value) in [("height", height), ("width", width)] where !(1...maxImageSide).contains(value) {
            throw NSTError.shape("\(what) \(side) must be 1...\(maxImageSide), got \(value)")
        }
    }

    private static func checkImage(_ image: UnsafeBufferPointer<Float>, height: Int, width: Int) throws {
        guard image.count == 3 * height * width, image.baseAddress != nil else {
            throw NSTError.shape("image must hold 3x\(height)x\(width) = \(3 * height * width) values, got \(image.count)")
        }
        guard image.allSatisfy(\.isFinite) else { throw NSTError.numeric("image holds NaN or infinity") }
    }
}
