import XCTest
@testable import NSTEngine

/// `WassersteinStyleLoss` against closed forms (one channel; two channels, whose matrix square root has
/// one), finite differences and the square-root formulation the engine's Cholesky path replaced.
final class WassersteinStyleLossTests: XCTestCase {
    /// Moments of `features` `[channels, positions]` as the objective's targets hold them.
    func moments(_ features: [Float], channels: Int) -> [Float] {
        features.withUnsafeBufferPointer {
            LayerMoments.of(features: $0.baseAddress!, channels: channels, positions: features.count / channels)
        }
    }

    /// C = 1: W₂² = (μ − μₛ)² + (√(v + ε) − √(vₛ + ε))². F = [1, 2, 3, 4]: μ = 2.5, v = 7.5 − 6.25 = 1.25;
    /// the style has μₛ = 1, vₛ = 4 (second moment 5), so ε = 1e-4 · 4.
    func testOneChannelClosedForm() throws {
        let loss = try WassersteinStyleLoss(weight: 3, channels: 1, target: [5, 1])
        let (value, _) = try loss.evaluateThroughMoments(features: Tensor(channels: 1, height: 2, width: 2, storage: [1, 2, 3, 4]))
        let epsilon = 4e-4
        let expected = 3 * (1.5 * 1.5 + pow((1.25 + epsilon).squareRoot() - (4 + epsilon).squareRoot(), 2))
        // Float moments: 7.5 and 2.5 are exact, so only the Double arithmetic rounds.
        XCTAssertEqual(value, expected, accuracy: 1e-9)
    }

    /// C = 2 against the 2x2 closed form √A = (A + √det A · I) / √(tr A + 2 √det A), computed here in Double
    /// from the features (an independent path: no eigendecomposition, no LAPACK). Tolerance 1e-5 relative:
    /// the engine's moments are float32 sums (relative error ~1e-7 per value over 12 positions).
    func testTwoChannelsClosedForm() throws {
        let (c, p) = (2, 12)
        let style = randomFloats(c * p, in: 0...3, seed: 71), image = randomFloats(c * p, in: 0...2, seed: 72)
        func statistics(_ f: [Float]) -> (mean: [Double], cov: [Double]) {
            let mean = (0..<c).map { i in (0..<p).reduce(0.0) { $0 + Double(f[i * p + $1]) } / Double(p) }
            var cov = [Double](repeating: 0, count: 4)
            for i in 0..<c {
                for j in 0..<c {
                    cov[i * c + j] = (0..<p).reduce(0.0) { $0 + (Double(f[i * p + $1]) - mean[i]) * (Double(f[j * p + $1]) - mean[j]) } / Double(p)
                }
            }
            return (mean, cov)
        }
        func root(_ a: [Double]) -> [Double] {
            let s = (a[0] * a[3] - a[1] * a[2]).squareRoot()
            let t = (a[0] + a[3] + 2 * s).squareRoot()
            return [(a[0] + s) / t, a[1] / t, a[2] / t, (a[3] + s) / t]
        }
        func product(_ a: [Double], _ b: [Double]) -> [Double] {
            [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3]]
        }
        var (ms, cs) = statistics(style), (m, cx) = statistics(image)
        let epsilon = 1e-4 * (cs[0] + cs[3]) / 2
        for i in [0, 3] { cs[i] += epsilon; cx[i] += epsilon }
        let s = root(cs), inner = product(product(s, cx), s)
        let rootTrace = (inner[0] + inner[3] + 2 * (inner[0] * inner[3] - inner[1] * inner[2]).squareRoot()).squareRoot()
        let meanDistance = zip(m, ms).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let expected = 0.5 * 2 * (meanDistance + cx[0] + cx[3] + cs[0] + cs[3] - 2 * rootTrace)

        let loss = try WassersteinStyleLoss(weight: 2, channels: c, target: moments(style, channels: c))
        let value = try loss.evaluateThroughMoments(features: Tensor(channels: c, height: 3, width: 4, storage: image)).loss
        XCTAssertEqual(value, expected, accuracy: 1e-5 * expected)
    }

    /// Central differences of the loss (h = 1e-2 on features of order 1): truncation O(h²) and float
    /// rounding of the moments (~1e-7 / h) stay far below the 2e-3 tolerance; a wrong factor or a missing
    /// mean term (the −2 (∂L/∂Σ) μ part) gives errors of order 1.
    func testGradientMatchesFiniteDifferences() throws {
        let (c, h, w) = (4, 3, 3)
        let loss = try WassersteinStyleLoss(weight: 5, channels: c, target: moments(randomFloats(c * 20, in: 0...2, seed: 73), channels: c))
        let f = randomFloats(c * h * w, in: 0...1.5, seed: 74)
        let value = { (x: [Float]) throws -> Double in
            try loss.evaluateThroughMoments(features: Tensor(channels: c, height: h, width: w, storage: x)).loss
        }
        let numeric = try centralDifferences(at: f, h: 1e-2, value)
        let analytic = try loss.evaluateThroughMoments(features: Tensor(channels: c, height: h, width: w, storage: f)).gradient
        assertClose(analytic, numeric, tolerance: 2e-3)
    }

    /// The style's own distribution is at distance 0, and a minimum: gradient 0 (to float rounding).
    func testZeroAtTheStyle() throws {
        let (c, h, w) = (5, 4, 6)
        let f = randomFloats(c * h * w, in: 0...2, seed: 75)
        let loss = try WassersteinStyleLoss(weight: 1, channels: c, target: moments(f, channels: c))
        let (value, gradient) = try loss.evaluateThroughMoments(features: Tensor(channels: c, height: h, width: w, storage: f))
        XCTAssertEqual(value, 0, accuracy: 1e-5)
        XCTAssertLessThan(gradient.map { abs($0) }.max()!, 1e-4)
    }

    /// A flat-colour style (every position the same: Σₛ = 0 up to float rounding, which leaves it slightly
    /// indefinite) still gives a finite loss and gradient: rounding's negative eigenvalues count as zero.
    func testFlatStyleIsAccepted() throws {
        let (c, p) = (16, 64)
        let style = (0..<(c * p)).map { Float(0.1 + 0.37 * Double($0 / p)) * 1.3 }
        let loss = try WassersteinStyleLoss(weight: 1, channels: c, target: moments(style, channels: c))
        let (value, gradient) = try loss.evaluateThroughMoments(features: Tensor(channels: c, height: 8, width: 8,
                                                                                 storage: randomFloats(c * p, in: 0...2, seed: 79)))
        XCTAssertTrue(value.isFinite && value > 0)
        XCTAssertTrue(gradient.allSatisfy(\.isFinite))
    }

    func testWrongShapeThrows() {
        XCTAssertThrowsError(try WassersteinStyleLoss(weight: 1, channels: 2, target: [1, 0, 0, 1])) {
            guard case NSTError.shape = $0 else { return XCTFail("\($0)") }
        }
    }

    /// The engine's Cholesky path against the square-root formulation it replaced (`R = Σₛ^½` from an
    /// eigendecomposition, `M = R Σ R`, `∂W₂²/∂Σ = I − R M^-½ R`, naive Double products), at 40 channels
    /// measured over 30 positions: the image's covariance is singular, so the ε floor and the smallest
    /// eigenvalues (the gradient's largest factors, up to 1/ε) take part. Both read the same float moments
    /// and agree to Double rounding: 1e-12 relative on the loss (measured 3e-15), and on the replaced float
    /// moments to their own rounding, 2e-7 of the largest (measured 4e-8).
    func testMatchesTheSquareRootFormulation() throws {
        let (c, styleP, imageP) = (40, 200, 30)
        let style = moments(randomFloats(c * styleP, in: 0...2, seed: 77), channels: c)
        let loss = try WassersteinStyleLoss(weight: 2, channels: c, target: style)
        let image = moments(randomFloats(c * imageP, in: 0...1.5, seed: 78), channels: c)
        var replaced = image
        let value = try replaced.withUnsafeMutableBufferPointer { try loss.uncheckedLoss(replacingMoments: $0.baseAddress!) }

        let reference = try squareRootReference(loss, style: style, image: image)
        XCTAssertEqual(value, reference.loss, accuracy: 1e-12 * abs(reference.loss))
        let scale = reference.moments.map(abs).max()!
        assertClose(replaced.map { Double($0) / scale }, reference.moments.map { $0 / scale }, tolerance: 2e-7)
    }

    /// The loss and the replaced moments (`C · ∂L/∂Σ`, then `∂L/∂μ − 2 (∂L/∂Σ) μ`) by the square-root path.
    func squareRootReference(_ loss: WassersteinStyleLoss, style: [Float], image: [Float]) throws
        -> (loss: Double, moments: [Double]) {
        let c = loss.channels
        let target = style.withUnsafeBufferPointer {  // Σₛ + ε·I
            WassersteinStyleLoss.covariance(moments: $0.baseAddress!, channels: c, epsilon: loss.epsilon).covariance
        }
        let (styleValues, styleVectors) = try SymmetricMatrix.eigen(target, order: c)
        func function(_ values: [Double], _ vectors: [Double], _ f: (Double) -> Double) -> [Double] {
            (0..<(c * c)).map { ij in (0..<c).reduce(0.0) { $0 + vectors[$1 * c + ij / c] * f(values[$1]) * vectors[$1 * c + ij % c] } }
        }
        let root = function(styleValues, styleVectors) { $0.squareRoot() }
        let (sigma, mean) = image.withUnsafeBufferPointer {
            WassersteinStyleLoss.covariance(moments: $0.baseAddress!, channels: c, epsilon: loss.epsilon)
        }
        let (values, vectors) = try SymmetricMatrix.eigen(naiveProduct(naiveProduct(root, sigma, order: c), root, order: c), order: c)
        let floor = loss.epsilon * loss.epsilon
        let transport = naiveProduct(naiveProduct(root, function(values, vectors) { 1 / max($0, floor).squareRoot() }, order: c),
                                     root, order: c)
        let scale = Double(loss.weight) / Double(c)
        var gradSigma = transport.map { -scale * $0 }
        for i in 0..<c { gradSigma[i * c + i] += scale }
        let meanGradient = (0..<c).map { i in
            2 * scale * (mean[i] - loss.targetMean[i]) - 2 * (0..<c).reduce(0.0) { $0 + gradSigma[i * c + $1] * mean[$1] }
        }
        let meanDistance = (0..<c).reduce(0.0) { $0 + pow(mean[$1] - loss.targetMean[$1], 2) }
        let trace = (0..<c).reduce(0.0) { $0 + sigma[$1 * c + $1] }
        let rootTrace = values.reduce(0.0) { $0 + max($1, floor).squareRoot() }
        return (scale * (meanDistance + trace + loss.targetTrace - 2 * rootTrace), gradSigma.map { Double(c) * $0 } + meanGradient)
    }
}
