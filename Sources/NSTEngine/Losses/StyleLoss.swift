/// Style term of one layer: `weight · mean((G/N − T)²)` over the `C·C` Gram entries, where
/// `G = F Fᵀ` of the layer's activations `F` `[C, H·W]` and `N = C·H·W`.
///
/// With a `region` (a mask at the layer's resolution, Gatys et al. 2017), `G = Σ_p m_p f_p f_pᵀ` and
/// `N = C · Σ_p m_p`: the Gram statistics of the masked region only, normalised by its mass, so that a
/// region matches its target whatever its size. A region of mass 0 (nothing of it at this layer) adds
/// nothing.
public struct StyleLoss: Sendable {
    /// Already includes the global style weight and the layer's weight.
    public var weight: Float
    public let channels: Int
    /// Normalised target Gram matrix `[C, C]` (blend of the style images' `G/N`).
    public let target: [Float]
    /// The positions the term is measured over, nil for all of them.
    let region: LayerMask?
    /// jcjohnson/neural-style's `-normalize_gradients`: the gradient with respect to the features is
    /// divided by its L1 norm (plus 1e-8) before the weight multiplies it; the loss is unchanged.
    let normalizesGradient: Bool

    /// - Throws: `NSTError.shape` when `target` is not `channels x channels`.
    public init(weight: Float, channels: Int, target: [Float]) throws {
        try self.init(weight: weight, channels: channels, target: target, region: nil, normalizesGradient: false)
    }

    init(weight: Float, channels: Int, target: [Float], region: LayerMask?, normalizesGradient: Bool) throws {
        guard channels > 0, target.count == channels * channels else {
            throw NSTError.shape("style target must be \(channels)x\(channels), got \(target.count) values")
        }
        self.weight = weight
        self.channels = channels
        self.target = target
        self.region = region
        self.normalizesGradient = normalizesGradient
    }

    /// `G/N` of `features` `[channels, positions]` with `N = channels · positions`, or over `region`
    /// (`[positions]`, mass > 0) with `N = channels · mass`.
    static func normalizedGram(features: UnsafePointer<Float>, channels: Int, positions: Int,
                               region: LayerMask? = nil) -> [Float] {
        var gram = [Float](repeating: 0, count: channels * channels)
        gram.withUnsafeMutableBufferPointer { g in
            withRegion(region) { weights in
                GramMatrix.forward(features: features, channels: channels, positions: positions, weights: weights,
                                   alpha: 1 / Float(Double(channels) * (region?.mass ?? Double(positions))),
                                   gram: g.baseAddress!)
            }
        }
        return gram
    }

    /// `body` with the region's values, or nil without a region.
    private static func withRegion<R>(_ region: LayerMask?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let region else { return body(nil) }
        return region.values.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// `N` of the term's Gram matrix for a layer of `positions`.
    private func normalization(positions: Int) -> Double { Double(channels) * (region?.mass ?? Double(positions)) }

    /// `Σ_s b_s · grams[s]` with the blend weights `b` rescaled to sum to 1.
    /// - Throws: `NSTError.invalidArgument` for no grams, negative/non-finite weights or a zero sum;
    ///   `.shape` when the grams differ in size.
    public static func blend(_ grams: [[Float]], weights: [Double]) throws -> [Float] {
        guard !grams.isEmpty, grams.count == weights.count else {
            throw NSTError.invalidArgument("blending needs one weight per Gram matrix and at least one matrix")
        }
        guard weights.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw NSTError.invalidArgument("blend weights must be finite and >= 0")
        }
        let total = weights.reduce(0, +)
        guard total > 0 else { throw NSTError.invalidArgument("blend weights sum to zero") }
        let count = grams[0].count
        guard grams.allSatisfy({ $0.count == count }) else {
            throw NSTError.shape("Gram matrices to blend differ in size")
        }
        var result = [Double](repeating: 0, count: count)
        for (gram, w) in zip(grams, weights) {
            let b = w / total
            for i in 0..<count { result[i] += b * Double(gram[i]) }
        }
        return result.map { Float($0) }
    }

    /// The term's `G/N` of `features` `[channels, positions]` (over its region when it has one) into `gram`
    /// `[channels, channels]`; zeros for a region of mass 0.
    func uncheckedNormalizedGram(features: UnsafePointer<Float>, positions: Int, into gram: UnsafeMutablePointer<Float>) {
        guard normalization(positions: positions) > 0 else {
            gram.update(repeating: 0, count: channels * channels)
            return
        }
        Self.withRegion(region) { weights in
            GramMatrix.forward(features: features, channels: channels, positions: positions, weights: weights,
                               alpha: 1 / Float(normalization(positions: positions)), gram: gram)
        }
    }

    /// The loss from the normalised Gram matrix `G/N` in `gram` `[channels, channels]`, which is replaced by
    /// the loss's gradient with respect to it, all `uncheckedGradient` needs besides the features. A
    /// region of mass 0 (nothing of it at this layer) adds nothing: loss and gradient 0.
    func uncheckedLoss(replacingNormalizedGram gram: UnsafeMutablePointer<Float>) -> Double {
        let c = channels
        if let region, !(region.mass > 0) {
            gram.update(repeating: 0, count: c * c)
            return 0
        }
        let scale = 2 * weight / Float(c * c)  // d/dG' of weight · Σ(G' − T)² / C², with G' = G/N
        var sum = 0.0
        target.withUnsafeBufferPointer { t in
            for i in 0..<(c * c) {
                let d = gram[i] - t[i]
                sum += Double(d) * Double(d)
                gram[i] = scale * d
            }
        }
        return Double(weight) * sum / Double(c * c)
    }

    /// The gradient `[channels, positions]` of the loss with respect to the features, from
    /// `uncheckedLoss`'s `gramGradient`: written into `gradient`, or added to it when `accumulating`
    /// (so that a network's backward pass needs no buffer per style layer). `gramPositions` is the
    /// positions the Gram matrix was normalised by when `features` are only part of them (a strip).
    func uncheckedGradient(features: UnsafePointer<Float>, positions: Int, gramPositions: Int? = nil,
                           gramGradient: UnsafePointer<Float>, accumulating: Bool,
                           into gradient: UnsafeMutablePointer<Float>, scratch: ScratchSpace) {
        // Targets built by `normalizedGram`/`blend` are symmetric, making the gradient on G' symmetric
        // too; the general form costs only O(C²) more and stays right for any caller-made target.
        let n = normalization(positions: gramPositions ?? positions)
        guard n > 0 else {
            if !accumulating { gradient.update(repeating: 0, count: channels * positions) }
            return
        }
        var alpha = 1 / Float(n)
        Self.withRegion(region) { weights in
            if normalizesGradient {
                let norm = GramMatrix.backwardL1Norm(features: features, gradGram: gramGradient, channels: channels,
                                                     positions: positions, weights: weights, alpha: alpha,
                                                     scratch: scratch)
                alpha *= Self.normalizingFactor(weight: weight, l1Norm: norm)
            }
            GramMatrix.backward(features: features, gradGram: gramGradient, channels: channels, positions: positions,
                                weights: weights, alpha: alpha, symmetric: false, accumulating: accumulating,
                                gradFeatures: gradient, scratch: scratch)
        }
    }

    /// What a weighted gradient `g = weight · d` is multiplied by to become neural-style's normalised
    /// `weight · d / (‖d‖₁ + 1e-8)`, given `‖g‖₁`.
    static func normalizingFactor(weight: Float, l1Norm: Double) -> Float {
        guard weight > 0 else { return 0 }
        return Float(1 / (l1Norm / Double(weight) + 1e-8))
    }
}
