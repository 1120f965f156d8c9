import XCTest
@testable import NSTEngine

/// `f(x) = ½ Σ a_i (x_i − c_i)²`, an ill-conditioned quadratic with minimum at `c`.
struct Quadratic {
    let a: [Float]
    let c: [Float]
    var evaluations = 0

    init(dimension: Int) {
        a = (0..<dimension).map { 1 + 9 * Float($0) / Float(max(1, dimension - 1)) }  // condition number 10
        c = (0..<dimension).map { Float($0 % 5) - 2 }
    }

    mutating func evaluate(_ x: [Float]) -> (loss: Double, gradient: [Float]) {
        evaluations += 1
        var loss = 0.0
        var gradient = [Float](repeating: 0, count: x.count)
        for i in x.indices {
            let d = x[i] - c[i]
            loss += 0.5 * Double(a[i]) * Double(d) * Double(d)
            gradient[i] = a[i] * d
        }
        return (loss, gradient)
    }
}

/// Adam with a session's default options, or another learning rate.
private func sessionDefaultAdam(learningRate: Float? = nil) throws -> Adam {
    let c = StyleTransferSession.Configuration()
    return try Adam(learningRate: learningRate ?? c.learningRate, beta1: c.adamBeta1, beta2: c.adamBeta2, epsilon: c.adamEpsilon)
}

final class AdamTests: XCTestCase {
    func testMinimisesQuadratic() throws {
        var f = Quadratic(dimension: 20)
        let adam = try sessionDefaultAdam(learningRate: 0.1)
        var x = [Float](repeating: 0, count: 20)
        var losses: [Double] = []
        for _ in 0..<2000 { losses.append(try adam.step(&x) { f.evaluate($0) }) }
        XCTAssertEqual(f.evaluations, 2000, "exactly one evaluation per step")
        assertClose(x, f.c, tolerance: 1e-3, "minimum")
        XCTAssertLessThan(losses.last!, 1e-6)
        XCTAssertEqual(adam.stepCount, 2000)
    }

    func testFirstStepMatchesTorchFormula() throws {
        // After one step m = (1−β1)g and v = (1−β2)g², so the move is
        // lr·√(1−β2)/(1−β1) · (1−β1)g / (√(1−β2)|g| + ε): ≈ lr·sign(g) unless |g| is near ε.
        let (lr, b1, b2, eps) = (0.5, 0.9, 0.999, 1e-8)
        let adam = try Adam(learningRate: Float(lr), beta1: Float(b1), beta2: Float(b2), epsilon: Float(eps))
        let start: [Float] = [1, -2, 3], g: [Float] = [2, -0.001, 0]
        var x = start
        let loss = try adam.step(&x) { _ in (7, g) }
        XCTAssertEqual(loss, 7)
        let expected = zip(start, g).map { x0, gi -> Double in
            let gd = Double(gi)
            return Double(x0) - lr * (1 - b2).squareRoot() / (1 - b1) * (1 - b1) * gd / ((1 - b2).squareRoot() * abs(gd) + eps)
        }
        assertClose(x, expected, tolerance: 1e-6)
        XCTAssertEqual(x[0], 0.5, accuracy: 1e-5)
    }

    func testFailedEvaluationLeavesStateUntouched() throws {
        let adam = try sessionDefaultAdam()
        var x: [Float] = [1, 2]
        XCTAssertThrowsError(try adam.step(&x) { _ in throw NSTError.numeric("boom") })
        XCTAssertThrowsError(try adam.step(&x) { _ in (1, [.nan, 0]) }) { XCTAssertEqual($0 as? NSTError, .numeric("objective gradient holds NaN or infinity")) }
        XCTAssertThrowsError(try adam.step(&x) { _ in (1, [0]) }) { XCTAssertEqual(($0 as? NSTError)?.message.contains("gradient values"), true) }
        XCTAssertEqual(x, [1, 2])
        XCTAssertEqual(adam.stepCount, 0)
    }

    func testRejectsBadParameters() {
        for (lr, b1, b2, eps) in [(Float(0), Float(0.9), Float(0.999), Float(1e-8)), (.nan, 0.9, 0.999, 1e-8), (1, 1, 0.999, 1e-8),
                                  (1, 0.9, -0.1, 1e-8), (1, 0.9, 0.999, 0), (1, 0.9, 0.999, .infinity)] {
            XCTAssertThrowsError(try Adam(learningRate: lr, beta1: b1, beta2: b2, epsilon: eps)) {
                XCTAssertEqual($0 as? NSTError, .invalidArgument(($0 as? NSTError)?.message ?? ""))
            }
        }
    }

    func testResetRestartsBiasCorrection() throws {
        let adam = try sessionDefaultAdam(learningRate: 1)
        var x: [Float] = [0]
        _ = try adam.step(&x) { _ in (0, [1]) }
        adam.reset()
        var y: [Float] = [0]
        _ = try adam.step(&y) { _ in (0, [1]) }
        XCTAssertEqual(x, y)
        XCTAssertEqual(adam.stepCount, 1)
    }
}
