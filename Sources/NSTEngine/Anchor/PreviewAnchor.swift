/// Keeps a large render's look at a preview size: the session's objective, with the same layers and
/// weights, evaluated on the image box-averaged by `factor` (4 for a 2048 px render and a 512 px
/// preview) against targets at that size, and added with `weight`.
///
/// Why: a finer scale of a multi-scale render starts from the upsampled coarser result, whose fine
/// detail is missing, so its first steps (driven by the shallow style layers) change the image far more
/// than that detail and lose the look the coarse scales found; a few tens of steps, all a 2048 px or 4K
/// render can afford, are not enough to recover it. With the anchor, the coarse look is part of the
/// objective at every step (measured in bench/RESULTS.md, "Same look at every size").
public final class PreviewAnchor {
    let factor: Int
    let weight: Float
    /// The objective at the preview size `height / factor × width / factor`.
    let objective: StyleTransferObjective

    /// Bounds of `factor`: at least 2 (1 would evaluate the same image twice), at most the largest
    /// image side over the smallest size any layer accepts.
    public static let factorRange = 2...1024

    /// - Throws: `NSTError.invalidArgument` (`factor` outside `factorRange`, `weight` not finite or
    ///   <= 0), `.shape` (`height` or `width` not a multiple of `factor`, or the preview too small for
    ///   the deepest layer).
    init(full: StyleTransferObjective, factor: Int, weight: Float) throws {
        guard Self.factorRange.contains(factor) else {
            throw NSTError.invalidArgument("anchor factor must be in \(Self.factorRange), got \(factor)")
        }
        guard weight.isFinite, weight > 0 else {
            throw NSTError.invalidArgument("anchor weight must be finite and > 0, got \(weight)")
        }
        guard full.height % factor == 0, full.width % factor == 0 else {
            throw NSTError.shape("anchor factor \(factor) must divide the image size \(full.height)x\(full.width)")
        }
        self.factor = factor
        self.weight = weight
        objective = try full.resized(height: full.height / factor, width: full.width / factor)
    }

    /// The same anchor for `full`'s layers, keeping the targets that do not depend on what changed.
    func rebuilt(for full: StyleTransferObjective, keepContent: Bool, keepStyle: Bool) throws -> PreviewAnchor {
        let anchor = try PreviewAnchor(full: full, factor: factor, weight: weight)
        try anchor.objective.adoptTargets(from: objective, content: keepContent, style: keepStyle)
        return anchor
    }

    /// Sets the content target from the full-size content `image`.
    func setContent(image: UnsafeBufferPointer<Float>) throws {
        let small = try downsampled(image, height: objective.height * factor, width: objective.width * factor)
        try small.withUnsafeBufferPointer { try objective.setContent(image: $0) }
    }

    /// Adds a style image (as given to the session, `[3, height, width]`), box-averaged by `factor`, with
    /// its mask and region (as given to the session) averaged the same way.
    /// - Throws: `NSTError.shape` when a side is below `factor` (and as `StyleTransferObjective.addStyle`).
    func addStyle(image: UnsafeBufferPointer<Float>, height: Int, width: Int, weight: Double,
                  mask: [Float]?, region: [Float]?) throws {
        guard height >= factor, width >= factor else {
            throw NSTError.shape("a style image of \(height)x\(width) is smaller than the anchor factor \(factor)")
        }
        let small = try downsampled(image, height: height, width: width)
        let fullHeight = objective.height * factor, fullWidth = objective.width * factor
        try small.withUnsafeBufferPointer {
            try objective.addStyle(image: $0, height: height / factor, width: width / factor, weight: weight,
                                   mask: try downsampled(mask: mask, height: height, width: width, "style image mask"),
                                   region: try downsampled(mask: region, height: fullHeight, width: fullWidth, "style region"))
        }
    }

    /// Sets the preview's masks from the full-size ones (`StyleTransferObjective.setMasks`), block-averaged.
    func setMasks(content: [Float]?, style: [Float]?) throws {
        let (height, width) = (objective.height * factor, objective.width * factor)
        try objective.setMasks(content: try downsampled(mask: content, height: height, width: width, "content mask"),
                               style: try downsampled(mask: style, height: height, width: width, "style mask"))
    }

    private func downsampled(mask: [Float]?, height: Int, width: Int, _ what: String) throws -> [Float]? {
        try mask.map { try SpatialMask(values: $0, height: height, width: width, what).downsampled(by: factor).values }
    }

    /// Losses at the downsampled `image`, times `weight`; with `gradient`, adds `weight · Dᵀ ∇` into it.
    /// `releasingBuffers` frees the preview evaluation's buffers afterwards, so that with a strip
    /// evaluation (which frees its own) the two peaks do not add up.
    func addEvaluation(image: UnsafeBufferPointer<Float>, gradient: UnsafeMutableBufferPointer<Float>?,
                       releasingBuffers: Bool) throws -> ObjectiveLosses {
        let (height, width) = (objective.height * factor, objective.width * factor)
        let small = try downsampled(image, height: height, width: width)
        var smallGradient = [Float](repeating: 0, count: gradient == nil ? 0 : small.count)
        let losses = try small.withUnsafeBufferPointer { x in
            try smallGradient.withUnsafeMutableBufferPointer { g in
                try objective.evaluate(image: x, gradient: gradient == nil ? nil : g)
            }
        }
        if releasingBuffers { objective.releaseEvaluationBuffers() }
        if let target = gradient?.baseAddress {
            smallGradient.withUnsafeBufferPointer {
                BoxDownsampling.addAdjoint(of: $0.baseAddress!, channels: 3, height: height, width: width,
                                           factor: factor, weight: weight, into: target)
            }
        }
        let w = Double(weight)
        return ObjectiveLosses(content: w * losses.content, style: w * losses.style, tv: w * losses.tv)
    }

    private func downsampled(_ image: UnsafeBufferPointer<Float>, height: Int, width: Int) throws -> [Float] {
        guard image.count == 3 * height * width, let source = image.baseAddress else {
            throw NSTError.shape("image must hold 3x\(height)x\(width) = \(3 * height * width) values, got \(image.count)")
        }
        let count = 3 * (height / factor) * (width / factor)
        try MemoryBudget.check(floats: count, for: "the anchor's \(height / factor)x\(width / factor) image")
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            BoxDownsampling.average(source, channels: 3, height: height, width: width, factor: factor,
                                    into: buffer.baseAddress!)
            initialized = count
        }
    }
}

extension StyleTransferObjective {
    /// A new objective like this one (layers, weights, pooling, style loss) for `height × width`, without targets.
    func resized(height: Int, width: Int) throws -> StyleTransferObjective {
        func named(_ layers: [(index: Int, weight: Float)]) -> [(name: String, weight: Float)] {
            layers.map { (network.layers[$0.index].name, $0.weight) }
        }
        return try StyleTransferObjective(network: network, height: height, width: width,
                                          contentLayers: named(contentLayers), styleLayers: named(styleLayers),
                                          contentWeight: contentWeight, styleWeight: styleWeight,
                                          tvWeight: tvWeight, pooling: pooling, normalizeGradients: normalizeGradients,
                                          convention: convention, styleLoss: styleLoss,
                                          histogramLayers: named(histogramLayers), histogramWeight: histogramWeight)
    }

    /// Frees the whole-image evaluation's buffers (the next evaluation allocates them again).
    func releaseEvaluationBuffers() {
        evaluation = NetworkEvaluation(network: network)
    }
}
