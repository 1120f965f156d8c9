/// The memory one `StyleTransferSession.step` holds at its peak, by part, in bytes (float32 buffers; the
/// process's own baseline, the mapped weights file and allocator overhead are not included).
public struct MemoryPrediction: Sendable, Equatable {
    /// The network evaluation's buffers: kept activations, two gradient buffers, convolution scratch, and
    /// with strips the window image, its gradient and the split layer's gradient.
    public var network: Int
    /// Transformed convolution kernels, built on first use and shared by every session of the model.
    public var kernels: Int
    /// Content targets and style Gram matrices (per image, blended, and their gradients), and the
    /// temporal term's target and weights (`StyleTransferSession.setTemporalTarget`).
    public var targets: Int
    /// Image-sized arrays of the session and objective: image, best image, gradient, total-variation gradient.
    public var images: Int
    /// The optimiser's arrays: L-BFGS history pairs and work vectors, or Adam's moments.
    public var optimizer: Int
    /// The preview anchor's part (`StyleTransferSession.setAnchor`): its targets and image-sized arrays,
    /// and its network buffers, which add to `network` with a whole-image evaluation (both kept) and
    /// only above it with strips (the strip evaluator and the anchor free theirs after each use).
    public var anchor: Int

    public var total: Int { network + kernels + targets + images + optimizer + anchor }
}

extension StyleTransferSession {
    /// Predicts the bytes one `step` holds at its peak with `strategy` (default: the session's) and, for
    /// L-BFGS, `lbfgsHistory` full correction pairs (default: the session's history size), for the
    /// session's size, layers, weights, optimiser and style images (at least one is assumed).
    ///
    /// The network part comes from `EvaluationFootprint`, the sizes `NetworkEvaluation.prepare` allocates;
    /// the image-sized arrays are counted from `stepOnce`, `StyleTransferObjective.evaluate` and the
    /// optimisers as written (see the comments below).
    /// - Throws: as `EvaluationStrategy.resolved`; `.invalidArgument` when `lbfgsHistory` < 1 or the
    ///   total does not fit in 63 bits.
    public func predictPeakMemory(strategy: EvaluationStrategy? = nil, lbfgsHistory: Int? = nil) throws -> MemoryPrediction {
        let strategy = strategy ?? objective.strategy
        let (h, w) = (configuration.height, configuration.width)
        let imageFloats = 3 * h * w
        let requested = objective.activeLayers

        var network = 0, kernels = 0
        if let deepest = requested.max() {
            let shapes = try wholeShapes(deepest)
            if let (split, rows) = try strategy.resolved(in: self.network) {
                // StripEvaluator releases each phase's buffers when the phase ends: the peak is the largest
                // phase. Stem phases hold one window's evaluation, image (and gradient) rows; the split
                // layer's output, then its gradient, connect them to the deep part.
                let plan = StripPlan(network: self.network, split: split, rows: rows, requested: requested, height: h)
                func stem(halo: Int) throws -> (rows: Int, footprint: EvaluationFootprint) {
                    let window = plan.geometry.largestWindow(halo: halo)
                    let stemShapes = try self.network.shapes(upTo: plan.geometry.stemEnd, height: window, width: w)
                    return (window, EvaluationFootprint(network: self.network, shapes: stemShapes,
                                                        requested: plan.stemRequested, start: -1, height: window, width: w))
                }
                let (forward, backward) = (try stem(halo: plan.geometry.forwardHalo), try stem(halo: plan.geometry.backwardHalo))
                var phases = [forward.footprint.forwardFloats + 3 * forward.rows * w,
                              backward.footprint.floats + 6 * backward.rows * w]
                kernels = backward.footprint.built
                if let split = plan.split {
                    let deep = EvaluationFootprint(network: self.network, shapes: shapes, requested: plan.deepLayers,
                                                   start: split, height: h, width: w)
                    let splitFloats = deep.outputs[split] ?? 0
                    phases[0] += splitFloats
                    phases[1] += splitFloats
                    phases.append(deep.floats + splitFloats)
                    kernels += deep.built
                }
                network = phases.max()!
            } else {
                let whole = EvaluationFootprint(network: self.network, shapes: shapes, requested: requested,
                                                start: -1, height: h, width: w)
                (network, kernels) = (whole.floats, whole.built)
            }
        }

        var anchorFloats = 0
        if let anchor {
            let preview = anchor.objective
            let previewNetwork = try Self.wholeNetworkFloats(of: preview)
            // The downsampled image, its gradient, and the preview objective's total-variation gradient.
            anchorFloats = try Self.targetFloats(of: preview, threadCount: configuration.threadCount) + 3 * 3 * preview.height * preview.width
                + (strategy == .whole ? previewNetwork : max(0, previewNetwork - network))
        }

        // The temporal term's target and weights, when set, are held like the targets.
        let targets = try Self.targetFloats(of: objective, threadCount: configuration.threadCount) + (temporal?.floatCount ?? 0)

        // Session image and best image, stepOnce's gradient (the optimiser's g), the objective's
        // total-variation gradient; the candidate shares the image's storage until the optimiser moves it,
        // by which time the work vectors below are freed.
        let images = 4 * imageFloats
        let optimizerArrays: Int
        var directionBytes = 0
        switch configuration.optimizer {
        case .lbfgs:
            let pairs = lbfgsHistory ?? configuration.lbfgsHistory
            guard pairs >= 1 else { throw NSTError.invalidArgument("L-BFGS history must be >= 1, got \(pairs)") }
            // Two vectors per pair at the storage's width (in Float32 arrays: 2 × width is a multiple of 4);
            // besides, the previous gradient, the previous step, and for the direction the pairs' kept inner
            // products (`directionBytes`) or, without them, a Double vector (2).
            let (history, overflow) = pairs.multipliedReportingOverflow(by: 2 * configuration.lbfgsStorage.bytesPerValue)
            guard !overflow, history <= Int.max / 4 - 16 else {
                throw NSTError.invalidArgument("L-BFGS history \(pairs) is too large to predict")
            }
            // The line search holds four more while it tries a move: the direction, the trial point, and
            // the rejected trial's point and gradient (or, once accepted, the move `s` in place of one).
            let kept = PairProducts.kept(capacity: pairs, count: imageFloats)
            directionBytes = kept ? PairProducts.bytes(pairs: pairs) : 0
            optimizerArrays = history / 4 + (kept ? 2 : 4) + (configuration.lbfgsLineSearch == .armijo ? 4 : 0)
        case .adam:
            optimizerArrays = 3  // m, v, and the candidate's copy when it is moved
        }
        let (arrays, overflow) = optimizerArrays.multipliedReportingOverflow(by: 4 * imageFloats)
        // Kept only for pairs <= imageFloats / 64, so directionBytes <= imageFloats² / 128: far below Int.max / 4.
        let optimizer = arrays + directionBytes
        guard !overflow, arrays <= Int.max / 4 else {
            throw NSTError.invalidArgument("L-BFGS history \(lbfgsHistory ?? configuration.lbfgsHistory) is too large to predict")
        }
        return MemoryPrediction(network: 4 * network, kernels: 4 * kernels, targets: 4 * targets,
                                images: 4 * images, optimizer: optimizer, anchor: 4 * anchorFloats)
    }

    /// Content targets (whole layers); per style layer the moments of each image, the blended target, the
    /// moments' buffer, and GramMatrix.backward's symmetric sum (one, the largest); at least one style image;
    /// the terms of styles with a region, and the masks; for W2 per layer the style's square root and the
    /// work of one evaluation's eigendecomposition (the largest layer's); per histogram layer the quantile
    /// tables of each image and their blend (when there are several), the difference buffer and the sort
    /// keys of each worker.
    private static func targetFloats(of o: StyleTransferObjective, threadCount: Int) throws -> Int {
        let content = o.usesContent ? o.contentLayers.map(\.index) : []
        let style = o.usesStyle ? o.styleLayers.map(\.index) : []
        var targets = try content.reduce(0) { sum, index in
            let s = try o.network.shapes(upTo: index, height: o.height, width: o.width)[index]
            return sum + s.channels * s.height * s.width
        }
        let styleImages = max(1, o.styleImageCount)
        let channels = style.map { o.network.layers[$0].channels }
        let moments = channels.map { LayerMoments.count(channels: $0) }
        targets += moments.reduce(0) { $0 + (styleImages + 2) * $1 }
        let largest = channels.max() ?? 0
        targets += largest * largest
        // A style with a region has its own target and moments buffer per layer; the masks their layers'.
        let regional = o.styleImages.filter { $0.region != nil }.count
        targets += moments.reduce(0) { $0 + 2 * regional * $1 } + o.maskFloats
        if o.styleLoss == .wasserstein2 {
            // Σₛ^½ in Double per layer; an evaluation's Σ, M, its eigenvectors, dsyevd's work space, M^-½, two
            // products and ∂L/∂Σ, in Double, for the largest layer.
            targets += channels.reduce(0) { $0 + 2 * $1 * $1 } + 20 * largest * largest
        }
        if o.usesHistogram {
            let workers = Parallel.withThreadCount(threadCount) { Parallel.threadCount }
            let tables = styleImages + (styleImages > 1 ? 1 : 0) + 1
            for index in o.histogramLayers.map(\.index) {
                let s = try o.network.shapes(upTo: index, height: o.height, width: o.width)[index]
                let positions = s.height * s.width
                targets += tables * s.channels * positions + 2 * positions * min(workers, s.channels)
            }
        }
        return targets
    }

    /// The whole-image evaluation buffers of `o`'s active layers (its kernels are the session's).
    private static func wholeNetworkFloats(of o: StyleTransferObjective) throws -> Int {
        let requested = o.activeLayers
        guard let deepest = requested.max() else { return 0 }
        let shapes = try o.network.shapes(upTo: deepest, height: o.height, width: o.width)
        return EvaluationFootprint(network: o.network, shapes: shapes, requested: requested, start: -1,
                                  height: o.height, width: o.width).floats
    }

    /// Whole-image shapes of layers `0...last`.
    private func wholeShapes(_ last: Int) throws -> [(channels: Int, height: Int, width: Int)] {
        try network.shapes(upTo: last, height: configuration.height, width: configuration.width)
    }
}
