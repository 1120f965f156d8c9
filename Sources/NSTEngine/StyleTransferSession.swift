/// One style-transfer problem: the objective (layers, targets), the optimiser, the image being
/// optimised, and the best image seen (lowest total loss over all evaluations since `setImage`).
///
/// Not thread-safe: one caller at a time (CBridge serialises calls per session). The network is
/// shared and immutable, so many sessions may run on one network concurrently. Every call that computes
/// runs with the session's own worker count (`Configuration.threadCount`, see `Parallel`).
public final class StyleTransferSession {
    /// Everything fixed when the session is created. The defaults here are the only copy of the session
    /// defaults: `nst_session_default_params()` is built from `Configuration()`.
    public struct Configuration: Sendable, Equatable {
        public enum Optimizer: Sendable, Equatable, CaseIterable {
            case lbfgs, adam
        }
        /// How an L-BFGS step finds the length of its move (`LBFGS.lineSearch`).
        public enum LineSearch: Sendable, Equatable, CaseIterable {
            /// The whole quasi-Newton move, one evaluation per step (torch, neural-style).
            case none
            /// Backtracking until Armijo's condition holds (`LBFGS+LineSearch.swift`).
            case armijo
        }
        /// Generated image size, each side in `1...StyleTransferObjective.maxImageSide`.
        public var height = 256
        public var width = 256
        public var pooling = Pooling.max
        public var optimizer = Optimizer.lbfgs
        /// Weights of the three terms (jcjohnson/neural-style's for 0...255 inputs), finite and >= 0.
        public var contentWeight: Float = 5
        public var styleWeight: Float = 100
        public var tvWeight: Float = 1e-3
        /// How the content and style terms are normalised: neural-style's means or the Coursera
        /// assignment's costs (`ObjectiveConvention`).
        public var objectiveConvention = ObjectiveConvention.neuralStyle
        /// Adam's options, read only with `optimizer == .adam` (see `Adam.init`).
        public var learningRate: Float = 10
        public var adamBeta1: Float = 0.9
        public var adamBeta2: Float = 0.999
        public var adamEpsilon: Float = 1e-8
        /// L-BFGS correction pairs kept, read only with `optimizer == .lbfgs`; >= 1.
        public var lbfgsHistory = 100
        /// How the L-BFGS pairs are stored, read only with `optimizer == .lbfgs`.
        public var lbfgsStorage = LBFGSStorage.float32
        /// Read only with `optimizer == .lbfgs`.
        public var lbfgsLineSearch = LineSearch.none
        /// Workers for this session's calls, >= 0; 0 = one per active processor.
        public var threadCount = 0
        /// jcjohnson/neural-style's `-normalize_gradients` (`StyleTransferObjective.normalizeGradients`).
        public var normalizeGradients = false
        /// The style term (`StyleLossKind`); Gatys et al.'s Gram loss by default.
        public var styleLoss = StyleLossKind.gram
        /// Weight of the histogram term with `.gramAndHistogram` (each histogram layer's weight times this),
        /// finite and >= 0. Measured: bench/RESULTS.md, "Style losses".
        public var histogramWeight: Float = 100
        public init() {}
    }

    /// The losses of one evaluation with the session's counters at that moment.
    public struct Progress: Sendable, Equatable {
        public var losses: ObjectiveLosses
        /// Optimiser steps completed (including the one that produced `losses`).
        public var iteration: Int
        /// Objective evaluations made by `step` so far.
        public var evaluations: Int
    }

    public static let defaultContentLayers: [(name: String, weight: Float)] = [("relu4_2", 1)]
    public static let defaultStyleLayers: [(name: String, weight: Float)] =
        ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"].map { ($0, 1) }
    /// Risser et al.'s histogram layers (their relu1_1 and relu4_1), used with `.gramAndHistogram`.
    public static let defaultHistogramLayers: [(name: String, weight: Float)] = [("relu1_1", 1), ("relu4_1", 1)]

    public let network: FeatureNetwork
    public let configuration: Configuration
    public private(set) var objective: StyleTransferObjective
    /// The preview-size term (`setAnchor`), nil without one.
    private(set) var anchor: PreviewAnchor?
    /// The temporal-consistency term (`setTemporalTarget`), nil without one.
    private(set) var temporal: TemporalLoss?
    public private(set) var contentLayers: [(name: String, weight: Float)]
    public private(set) var styleLayers: [(name: String, weight: Float)]
    public private(set) var histogramLayers: [(name: String, weight: Float)]
    /// The image being optimised, `[3, height, width]`; always finite.
    public internal(set) var image: [Float]
    /// The evaluated image with the lowest total loss since `setImage` (the set image before any step).
    public internal(set) var bestImage: [Float]
    /// Losses of `bestImage`, nil until an evaluation happened since `setImage`.
    public internal(set) var bestProgress: Progress?
    public internal(set) var iteration = 0
    public internal(set) var evaluations = 0

    /// Replaced only by `importState`.
    var optimizer: any ImageOptimizer

    /// Number of values in an image of the session's size.
    public var imageCount: Int { 3 * configuration.height * configuration.width }

    /// Creates a session with the default layers, no targets and an all-zero image.
    /// - Throws: `NSTError.invalidArgument` for any configuration value out of range, including an image
    ///   size outside `1...StyleTransferObjective.maxImageSide` or too small for the default layers (a bad
    ///   parameter here, where the layer setters report `.shape`); `.outOfMemory` when the image and best
    ///   image do not fit.
    public init(network: FeatureNetwork, configuration c: Configuration) throws {
        guard c.threadCount >= 0 else {
            throw NSTError.invalidArgument("number of worker threads must be >= 0 (0: one per core), got \(c.threadCount)")
        }
        optimizer = try Self.makeOptimizer(c)
        contentLayers = Self.defaultContentLayers
        styleLayers = Self.defaultStyleLayers
        histogramLayers = Self.defaultHistogramLayers
        do {
            objective = try Self.makeObjective(network, c, contentLayers, styleLayers, histogramLayers)
        } catch NSTError.shape(let message) {
            throw NSTError.invalidArgument(message)
        }
        try MemoryBudget.check(floats: 2 * 3 * c.height * c.width, for: "a \(c.height)x\(c.width) session's image and best image")
        self.network = network
        self.configuration = c
        image = [Float](repeating: 0, count: 3 * c.height * c.width)
        bestImage = image
    }

    /// The optimiser `c` asks for, without state.
    static func makeOptimizer(_ c: Configuration) throws -> any ImageOptimizer {
        switch c.optimizer {
        case .lbfgs:
            try LBFGS(historySize: c.lbfgsHistory, storage: c.lbfgsStorage, lineSearch: c.lbfgsLineSearch == .armijo)
        case .adam: try Adam(learningRate: c.learningRate, beta1: c.adamBeta1, beta2: c.adamBeta2, epsilon: c.adamEpsilon)
        }
    }

    /// Runs `body` with the session's worker count (see `Parallel.withThreadCount`).
    private func withWorkers<R>(_ body: () throws -> R) rethrows -> R {
        try Parallel.withThreadCount(configuration.threadCount, body)
    }

    private static func makeObjective(_ network: FeatureNetwork, _ c: Configuration,
                                      _ content: [(name: String, weight: Float)],
                                      _ style: [(name: String, weight: Float)],
                                      _ histogram: [(name: String, weight: Float)]) throws -> StyleTransferObjective {
        try StyleTransferObjective(network: network, height: c.height, width: c.width,
                                   contentLayers: content, styleLayers: style, contentWeight: c.contentWeight,
                                   styleWeight: c.styleWeight, tvWeight: c.tvWeight, pooling: c.pooling,
                                   normalizeGradients: c.normalizeGradients, convention: c.objectiveConvention,
                                   styleLoss: c.styleLoss, histogramLayers: histogram, histogramWeight: c.histogramWeight)
    }

    // MARK: - Inputs

    /// Replaces the content layers and clears the content target; the style targets are kept (their Gram
    /// matrices depend only on the style layers, so the session keeps no copy of the style images).
    /// - Throws: `NSTError.unknownLayer`, `.invalidArgument` (weights, repeats), `.shape` (the session's
    ///   size is too small for a layer); the session is unchanged on error.
    public func setContentLayers(_ layers: [(name: String, weight: Float)]) throws {
        let rebuilt = try Self.makeObjective(network, configuration, layers, styleLayers, histogramLayers)
        try rebuilt.setStrategy(objective.strategy)
        try rebuilt.adoptTargets(from: objective, content: false, style: true)
        let rebuiltAnchor = try anchor?.rebuilt(for: rebuilt, keepContent: false, keepStyle: true)
        objective = rebuilt
        anchor = rebuiltAnchor
        contentLayers = layers
        objectiveChanged()
    }

    /// Replaces the style layers and removes every style image; the content target is kept.
    /// - Throws: as `setContentLayers`.
    public func setStyleLayers(_ layers: [(name: String, weight: Float)]) throws {
        try replaceStyleTargets(style: layers, histogram: histogramLayers)
        styleLayers = layers
    }

    /// Replaces the histogram layers (used with `StyleLossKind.gramAndHistogram`) and removes every style
    /// image, whose histogram targets belong to the layers; the content target is kept.
    /// - Throws: as `setContentLayers`.
    public func setHistogramLayers(_ layers: [(name: String, weight: Float)]) throws {
        try replaceStyleTargets(style: styleLayers, histogram: layers)
        histogramLayers = layers
    }

    /// The objective rebuilt with these style and histogram layers, keeping the content target only.
    private func replaceStyleTargets(style: [(name: String, weight: Float)],
                                     histogram: [(name: String, weight: Float)]) throws {
        let rebuilt = try Self.makeObjective(network, configuration, contentLayers, style, histogram)
        try rebuilt.setStrategy(objective.strategy)
        try rebuilt.adoptTargets(from: objective, content: true, style: false)
        let rebuiltAnchor = try anchor?.rebuilt(for: rebuilt, keepContent: true, keepStyle: false)
        objective = rebuilt
        anchor = rebuiltAnchor
        objectiveChanged()
    }

    /// Chooses how the network is evaluated (`EvaluationStrategy`; default `.whole`). Targets, image and
    /// optimiser state are kept: both strategies give the same values.
    /// - Throws: as `StyleTransferObjective.setStrategy`; the session is unchanged on error.
    public func setStrategy(_ strategy: EvaluationStrategy) throws {
        try objective.setStrategy(strategy)
    }

    /// Adds to the objective the same objective at a preview size, `height / factor × width / factor`,
    /// evaluated on the image box-averaged by `factor` and weighted by `weight` (see `PreviewAnchor`);
    /// `factor` 0 removes it. Set it before the content and style images: its targets are made from them.
    /// - Throws: `NSTError.state` (a content or style image is already set), `.invalidArgument` (factor
    ///   not 0 and outside `PreviewAnchor.factorRange`, weight not finite or <= 0), `.shape` (factor does
    ///   not divide the size, or the preview is too small for the layers); the session is unchanged on error.
    public func setAnchor(factor: Int, weight: Float) throws {
        guard !objective.hasTargets else {
            throw NSTError.state("set the anchor before the content and style images")
        }
        let anchor = factor == 0 ? nil : try PreviewAnchor(full: objective, factor: factor, weight: weight)
        try anchor?.setMasks(content: objective.contentMask?.values, style: objective.styleMask?.values)
        self.anchor = anchor
        objectiveChanged()
    }

    /// The anchor's factor and weight (`setAnchor`), nil without one.
    public var anchorSettings: (factor: Int, weight: Float)? { anchor.map { ($0.factor, $0.weight) } }

    /// Sets the content target from `image` `[3, height, width]`.
    /// - Throws: `NSTError.shape`, `.numeric` (NaN/Inf), `.outOfMemory`.
    public func setContent(image: UnsafeBufferPointer<Float>) throws {
        try withWorkers {
            try objective.setContent(image: image)
            try anchor?.setContent(image: image)
        }
        objectiveChanged()
    }

    /// Adds a style image `[3, height, width]` (any size; with an anchor at least its factor on a side)
    /// with blend weight `weight` > 0, its own `mask` (`[height · width]`, e.g. its alpha) and the `region`
    /// of the generated image it is matched over (see `StyleTransferObjective.addStyle`).
    /// - Throws: as `StyleTransferObjective.addStyle` and `PreviewAnchor.addStyle`.
    public func addStyle(image: UnsafeBufferPointer<Float>, height: Int, width: Int, weight: Double,
                         mask: [Float]? = nil, region: [Float]? = nil) throws {
        if let anchor, height < anchor.factor || width < anchor.factor {
            throw NSTError.shape("a style image of \(height)x\(width) is smaller than the anchor factor \(anchor.factor)")
        }
        try withWorkers {
            let count = objective.styleImageCount
            try objective.addStyle(image: image, height: height, width: width, weight: weight, mask: mask, region: region)
            do {
                try anchor?.addStyle(image: image, height: height, width: width, weight: weight, mask: mask, region: region)
            } catch {
                try objective.removeStyles(after: count)
                throw error
            }
        }
        objectiveChanged()
    }

    /// Sets the masks of the generated image (see `StyleTransferObjective.setMasks`): `content` weights
    /// the content term per pixel, `style` is where the styles without a region are matched.
    /// - Throws: as `StyleTransferObjective.setMasks`; the session is unchanged on error.
    public func setMasks(content: [Float]?, style: [Float]?) throws {
        try withWorkers {
            let previous = (objective.contentMask?.values, objective.styleMask?.values)
            try objective.setMasks(content: content, style: style)
            do {
                try anchor?.setMasks(content: content, style: style)
            } catch {
                try objective.setMasks(content: previous.0, style: previous.1)
                throw error
            }
        }
        objectiveChanged()
    }

    /// Adds the temporal-consistency term of video style transfer (`TemporalLoss`): the squared distance
    /// to `target` `[3, height, width]` (the previous frame's result warped to this frame) weighted per
    /// pixel by `pixelWeights` `[height, width]` (the term's weight times 0 where the flow is unreliable,
    /// 1 elsewhere), over the element count. Replaces an earlier target; nil for both removes it.
    /// - Throws: `NSTError.invalidArgument` (one of the two nil, a negative weight), `.shape`, `.numeric`,
    ///   `.outOfMemory` (as `TemporalLoss.init`); the session is unchanged on error.
    public func setTemporalTarget(_ target: UnsafeBufferPointer<Float>?, pixelWeights: UnsafeBufferPointer<Float>?) throws {
        switch (target, pixelWeights) {
        case (nil, nil):
            temporal = nil
        case let (target?, pixelWeights?):
            temporal = try TemporalLoss(target: target, pixelWeights: pixelWeights,
                                        height: configuration.height, width: configuration.width)
        default:
            throw NSTError.invalidArgument("temporal target and weights must both be given, or neither (to remove the term)")
        }
        objectiveChanged()
    }

    /// Removes every style image.
    public func clearStyles() {
        objective.clearStyles()
        anchor?.objective.clearStyles()
        objectiveChanged()
    }

    /// A different objective makes the optimiser's history and the best loss meaningless.
    private func objectiveChanged() {
        optimizer.reset()
        bestProgress = nil
        bestImage = image
    }

    // MARK: - Optimisation

    /// Losses (and, with `gradient`, their gradient) at `image`, leaving the session unchanged.
    /// - Throws: as `StyleTransferObjective.evaluate`.
    public func evaluate(image: UnsafeBufferPointer<Float>, gradient: UnsafeMutableBufferPointer<Float>?) throws -> ObjectiveLosses {
        try withWorkers { try evaluateObjective(image: image, gradient: gradient) }
    }

    /// The objective and, with an anchor or a temporal target, their terms (added into the losses and
    /// the gradient).
    private func evaluateObjective(image: UnsafeBufferPointer<Float>, gradient: UnsafeMutableBufferPointer<Float>?) throws -> ObjectiveLosses {
        var losses = try objective.evaluate(image: image, gradient: gradient)
        if let anchor {
            let preview = try anchor.addEvaluation(image: image, gradient: gradient,
                                                   releasingBuffers: objective.strategy != .whole)
            losses = ObjectiveLosses(content: losses.content + preview.content, style: losses.style + preview.style,
                                     tv: losses.tv + preview.tv)
        }
        if let temporal {
            losses.temporal = temporal.addEvaluation(image: image, gradient: gradient)
        }
        if anchor != nil || temporal != nil {
            guard losses.total.isFinite else {
                throw NSTError.numeric("objective is not finite (content \(losses.content), style \(losses.style), "
                                       + "tv \(losses.tv), temporal \(losses.temporal))")
            }
        }
        return losses
    }

    /// Sets the image to optimise and resets the optimiser and the best image.
    /// - Throws: `NSTError.shape` (wrong count), `.numeric` (NaN or infinity).
    public func setImage(_ newImage: UnsafeBufferPointer<Float>) throws {
        guard newImage.count == imageCount else {
            throw NSTError.shape("image must hold 3x\(configuration.height)x\(configuration.width) = \(imageCount) values, got \(newImage.count)")
        }
        guard newImage.allSatisfy(\.isFinite) else { throw NSTError.numeric("image holds NaN or infinity") }
        image = Array(newImage)
        optimizer.reset()
        bestImage = image
        bestProgress = nil
    }

    /// Runs up to `count` optimiser steps, one objective evaluation each (L-BFGS with the line search:
    /// one or more; the progress then has the losses of the image the step moved to).
    /// - Parameters:
    ///   - progress: called after every step with its losses (on the calling thread, with the session's
    ///     worker count bound); return false to stop.
    /// - Returns: the progress of the last step taken, nil when `count` is 0.
    /// - Throws: `NSTError.invalidArgument` (count < 0), `.state` (missing target), `.cancelled`
    ///   (the callback said stop; the step it saw is kept), `.numeric` (non-finite loss, gradient or
    ///   update: the image stays at the last finite iterate), `.outOfMemory`.
    @discardableResult
    public func step(count: Int, progress: ((Progress) -> Bool)? = nil) throws -> Progress? {
        guard count >= 0 else { throw NSTError.invalidArgument("step count must be >= 0, got \(count)") }
        return try withWorkers {
            var last: Progress?
            for _ in 0..<count {
                let current = try LayerProfiler.measure(.step) { try stepOnce() }
                last = current
                if let progress, !progress(current) { throw NSTError.cancelled }
            }
            return last
        }
    }

    /// The progress of the last step taken, when `step` threw `.cancelled` after it.
    public internal(set) var lastProgress: Progress?

    private func stepOnce() throws -> Progress {
        var losses = ObjectiveLosses(content: 0, style: 0, tv: 0)
        var gradient = [Float](repeating: 0, count: imageCount)
        var candidate = image  // the session's image changes only once the step is known to be finite
        _ = try optimizer.step(&candidate) { [self] x in
            losses = try LayerProfiler.measure(.stepEvaluation) {
                try x.withUnsafeBufferPointer { xs in
                    try gradient.withUnsafeMutableBufferPointer { try evaluateObjective(image: xs, gradient: $0) }
                }
            }
            evaluations += 1
            // Best is tracked per evaluation: the point evaluated is x, before the optimiser moves it.
            if losses.total < (bestProgress?.losses.total ?? .infinity) {
                bestImage = x
                bestProgress = Progress(losses: losses, iteration: iteration + 1, evaluations: evaluations)
            }
            return (losses.total, gradient)
        }
        guard candidate.allSatisfy(\.isFinite) else {
            optimizer.reset()
            throw NSTError.numeric("optimiser step produced NaN or infinity; kept the last finite image")
        }
        image = candidate
        iteration += 1
        let result = Progress(losses: losses, iteration: iteration, evaluations: evaluations)
        lastProgress = result
        return result
    }
}
