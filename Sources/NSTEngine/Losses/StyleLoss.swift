/// Style term of one layer: `weight · mean((G/N − T)²)` over the `C·C` Gram entries, where
/// `G = F Fᵀ` of the layer's activations `F` `[C, H·W]` and `N = C·H·W`.
public struct StyleLoss: Sendable {
    /// Already includes the global style weight and the layer's weight.
    public var weight: Float
    public let channels: Int
    /// Normalised target Gram matrix `[C, C]` (blend of the style images' `G/N`).
    public let target: [Float]

    /// - Throws: `NSTError.shape` when `target` is not `channels x channels`.
    public init(weight: Float, channels: Int, target: [Float]) throws {
        guard channels > 0, target.count == channels * channels else {
            throw NSTError.shape("style target must be \(channels)x\(channels), got \(target.count) values")
        }
        self.weight = weight
        self.channels = channels
        self.target = target
    }

    /// `G/N` of `features` `[channels, positions]` with `N = channels · positions`.
    public static func normalizedGram(features: UnsafePointer<Float>, channels: Int, positions: Int) -> [Float] {
        var gram = [Float](repeating: 0, count: channels * channels)
        gram.withUnsafeMutableBufferPointer { g in
            GramMatrix.forward(features: features, channels: channels, positions: positions,
                               alpha: 1 / Float(channels * positions), gram: g.baseAddress!)
        }
        return gram
    }

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

    /// The loss; also writes its gradient with respect to the normalised Gram matrix into `gramGradient`
    /// `[channels, channels]`, all `uncheckedGradient` needs besides the features.
    func uncheckedLoss(features: UnsafePointer<Float>, positions: Int, gramGradient: UnsafeMutablePointer<Float>) -> Double {
        let n = Float(channels * positions)  // N_l, the Gram normalisation
        GramMatrix.forward(features: features, channels: channels, positions: positions, alpha: 1 / n, gram: gramGradient)
        return uncheckedLoss(replacingNormalizedGram: gramGradient)
    }

    /// The loss from the normalised Gram matrix `G/N` in `gram` `[channels, channels]`, which is replaced by
    /// the loss's gradient with respect to it (as `uncheckedLoss(features:positions:gramGradient:)`).
    func uncheckedLoss(replacingNormalizedGram gram: UnsafeMutablePointer<Float>) -> Double {
        let c = channels
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
        GramMatrix.backward(features: features, gradGram: gramGradient, channels: channels, positions: positions,
                            alpha: 1 / Float(channels * (gramPositions ?? positions)), symmetric: false, accumulating: accumulating,
                            gradFeatures: gradient, scratch: scratch)
    }
}
