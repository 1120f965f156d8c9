/// Style term of one layer: `weight · W₂² / C`, the squared Wasserstein-2 distance between Gaussians fitted
/// to the layer's activations `F` `[C, P]` (mean `μ`, covariance `Σ` over the positions) and to the style's,
///
///     W₂² = |μ − μₛ|² + tr(Σ + Σₛ − 2 (Σₛ^½ Σ Σₛ^½)^½),
///
/// as crowsonkb/style-transfer-pytorch's `StyleLossW2` (there too divided by `C`). Unlike the Gram loss it
/// separates the mean from the covariance and measures the covariance's distance in the features' own
/// units. Both covariances get `ε·I` added, `ε` = `relativeRegularization` times the style's mean channel
/// variance: it bounds the gradient where the image's covariance is (nearly) singular.
///
/// The gradient needs only `M^-½` of `M = Σₛ^½ Σ Σₛ^½`: `d tr(M^½) = ½ tr(M^-½ dM)`, so
/// `∂W₂²/∂Σ = I − Σₛ^½ M^-½ Σₛ^½`. Any factor `Σₛ = L Lᵀ` gives the same through `K = Lᵀ Σ L`, which has
/// `M`'s eigenvalues (`K` and `M` are both similar to `Σₛ Σ`): `tr M^½ = tr K^½` and
/// `Σₛ^½ M^-½ Σₛ^½ = L K^-½ Lᵀ` (both are `½ ∂tr(·)^½/∂Σ`). With the triangular Cholesky factor `L` an
/// evaluation is two triangular products for `K`, one symmetric eigendecomposition of `K` in Double
/// (LAPACK `dsyevd`) and a triangular product and `dsyrk` for `L K^-½ Lᵀ`: 4C³ multiply-adds besides the
/// eigendecomposition, against 10C³ through `Σₛ^½` and full products. The style side (`L`, `μₛ`,
/// `tr Σₛ`) is computed once per target.
public struct WassersteinStyleLoss: Sendable {
    /// Already includes the global style weight and the layer's weight.
    public var weight: Float
    public let channels: Int
    /// `ε / tr(Σₛ)·C` (see the type's documentation).
    public static let relativeRegularization = 1e-4
    /// The absolute `ε` of this target.
    let epsilon: Double
    let targetMean: [Double]
    /// The lower triangular `L` `[C, C]` with `L Lᵀ = Σₛ`, `Σₛ` regularised.
    let targetFactor: [Double]
    /// `tr Σₛ`, regularised.
    let targetTrace: Double

    /// - Parameter target: the style's `LayerMoments` (blended over the style images).
    /// - Throws: `NSTError.shape` when `target` does not hold `LayerMoments.count(channels:)` values,
    ///   `.numeric` when the eigendecomposition or the Cholesky factorisation fails.
    public init(weight: Float, channels: Int, target: [Float]) throws {
        guard channels > 0, target.count == LayerMoments.count(channels: channels) else {
            throw NSTError.shape("W2 style target must hold \(channels)x\(channels) + \(channels) values, got \(target.count)")
        }
        self.weight = weight
        self.channels = channels
        let (covariance, mean) = Self.covariance(moments: target, channels: channels, epsilon: 0)
        // Float rounding leaves the covariance of a (nearly) flat style slightly indefinite, which the
        // Cholesky factorisation refuses: its negative eigenvalues count as zero.
        let (values, vectors) = try SymmetricMatrix.eigen(covariance, order: channels)
        let rawTrace = values.reduce(0.0) { $0 + max($1, 0) }
        // A floor for a style whose layer is constant (a flat colour): any ε > 0 keeps Σₛ positive definite
        // and M invertible.
        let epsilon = max(Self.relativeRegularization * rawTrace / Double(channels), 1e-12)
        let regularised = SymmetricMatrix.congruentFunction(values: values, vectors: vectors, lower: nil, order: channels) {
            max($0, 0) + epsilon
        }
        self.epsilon = epsilon
        targetMean = mean
        targetFactor = try SymmetricMatrix.choleskyFactor(regularised, order: channels)
        targetTrace = rawTrace + Double(channels) * epsilon
    }

    /// `Σ + ε·I = C·(G/N) − μμᵀ + ε·I` and `μ` from `LayerMoments`, in Double.
    static func covariance(moments: UnsafePointer<Float>, channels c: Int, epsilon: Double) -> (covariance: [Double], mean: [Double]) {
        let mean = (0..<c).map { Double(moments[c * c + $0]) }
        var covariance = [Double](repeating: 0, count: c * c)
        for i in 0..<c {
            for j in 0..<c { covariance[i * c + j] = Double(c) * Double(moments[i * c + j]) - mean[i] * mean[j] }
            covariance[i * c + i] += epsilon
        }
        return (covariance, mean)
    }
}

extension WassersteinStyleLoss: LayerStyleLoss {
    /// Writes `C · ∂L/∂Σ` in place of `G/N` (the Gram's chain rule, `∂Σ/∂(G/N) = C`) and
    /// `∂L/∂μ − 2 (∂L/∂Σ) μ` in place of `μ` (`Σ` depends on `μ` through `−μμᵀ`).
    func uncheckedLoss(replacingMoments moments: UnsafeMutablePointer<Float>) throws -> Double {
        let c = channels
        let (sigma, mean) = Self.covariance(moments: moments, channels: c, epsilon: epsilon)
        let k = SymmetricMatrix.congruence(sigma, lower: targetFactor, order: c)
        let (values, vectors) = try SymmetricMatrix.eigen(k, order: c)
        // K ⪰ λmin(Σ)·λmin(Σₛ) ⪰ ε²; eigenvalues below that are rounding.
        let floor = epsilon * epsilon
        let rootTrace = values.reduce(0.0) { $0 + max($1, floor).squareRoot() }
        let transport = SymmetricMatrix.congruentFunction(values: values, vectors: vectors, lower: targetFactor, order: c) {
            1 / max($0, floor).squareRoot()
        }

        var meanDistance = 0.0, trace = 0.0
        for i in 0..<c {
            meanDistance += (mean[i] - targetMean[i]) * (mean[i] - targetMean[i])
            trace += sigma[i * c + i]
        }
        let scale = Double(weight) / Double(c)
        // ∂L/∂Σ = scale · (I − L K^-½ Lᵀ), symmetric.
        var gradSigma = transport
        for i in 0..<(c * c) { gradSigma[i] *= -scale }
        for i in 0..<c { gradSigma[i * c + i] += scale }
        for i in 0..<c {
            var sigmaMean = 0.0
            for j in 0..<c { sigmaMean += gradSigma[i * c + j] * mean[j] }
            moments[c * c + i] = Float(2 * scale * (mean[i] - targetMean[i]) - 2 * sigmaMean)
        }
        for i in 0..<(c * c) { moments[i] = Float(Double(c) * gradSigma[i]) }
        return scale * (meanDistance + trace + targetTrace - 2 * rootTrace)
    }

    /// `2/P · (∂L/∂Σ) F + (∂L/∂μ)/P` per position, `P` the whole layer's positions.
    func uncheckedGradient(features: UnsafePointer<Float>, positions: Int, wholePositions: Int,
                           moments: UnsafePointer<Float>, accumulating: Bool,
                           into gradient: UnsafeMutablePointer<Float>, scratch: ScratchSpace) {
        let c = channels
        GramMatrix.backward(features: features, gradGram: moments, channels: c, positions: positions,
                            alpha: 1 / Float(c * wholePositions), symmetric: true, accumulating: accumulating,
                            gradFeatures: gradient, scratch: scratch)
        let perPosition = 1 / Float(wholePositions)
        Parallel.forEach(c) { channel in
            let shift = moments[c * c + channel] * perPosition
            let plane = gradient + channel * positions
            for p in 0..<positions { plane[p] += shift }
        }
    }
}
