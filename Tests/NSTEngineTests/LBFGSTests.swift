import XCTest
@testable import NSTEngine

final class LBFGSTests: XCTestCase {
    func testMinimisesQuadratic() throws {
        var f = Quadratic(dimension: 50)
        let lbfgs = try LBFGS(historySize: 10)
        var x = [Float](repeating: 0, count: 50)
        for _ in 0..<100 { _ = try lbfgs.step(&x) { f.evaluate($0) } }
        XCTAssertEqual(f.evaluations, 100, "exactly one evaluation per step")
        assertClose(x, f.c, tolerance: 1e-4, "minimum")
    }

    func testMinimisesRosenbrock() throws {
        // f(u, v) = (1 − u)² + 100 (v − u²)², minimum 0 at (1, 1); computed in Double.
        func rosenbrock(_ x: [Float]) -> (loss: Double, gradient: [Float]) {
            let u = Double(x[0]), v = Double(x[1])
            let loss = (1 - u) * (1 - u) + 100 * (v - u * u) * (v - u * u)
            return (loss, [Float(-2 * (1 - u) - 400 * u * (v - u * u)), Float(200 * (v - u * u))])
        }
        let lbfgs = try LBFGS(historySize: 5)
        var x: [Float] = [-1.2, 1]
        var best = Double.infinity
        for _ in 0..<500 { best = min(best, try lbfgs.step(&x, objective: rosenbrock)) }
        XCTAssertLessThan(best, 1e-6)
        assertClose(x, [1, 1], tolerance: 2e-3, "minimum")
    }

    func testFirstStepIsScaledSteepestDescent() throws {
        let lbfgs = try LBFGS()
        var x: [Float] = [0, 0]
        _ = try lbfgs.step(&x) { _ in (1, [3, -1]) }   // |g|₁ = 4 → t = 1/4
        assertClose(x, [-0.75, 0.25], tolerance: 1e-6)
        var y: [Float] = [0, 0]
        let small = try LBFGS()
        _ = try small.step(&y) { _ in (1, [0.1, -0.2]) }  // |g|₁ < 1 → t = 1
        assertClose(y, [-0.1, 0.2], tolerance: 1e-6)
    }

    func testSecondStepIsExactNewtonOnOneDimensionalQuadratic() throws {
        // On f = ½ a x², one curvature pair gives H₀ = s·y / y·y = 1/a: the second step lands on 0.
        var f = Quadratic(dimension: 1)
        let lbfgs = try LBFGS()
        var x: [Float] = [5]
        _ = try lbfgs.step(&x) { f.evaluate($0) }
        _ = try lbfgs.step(&x) { f.evaluate($0) }
        assertClose(x, f.c, tolerance: 1e-5)
    }

    func testSkipsPairsWithoutCurvature() throws {
        // A linear function (constant gradient): y = 0, so y·s = 0 and no pair is stored; the
        // direction stays −g, with t = min(1, 1/2) first and lr = 1 after.
        let lbfgs = try LBFGS()
        var x: [Float] = [0]
        _ = try lbfgs.step(&x) { _ in (0, [2]) }
        XCTAssertEqual(x, [-1])
        _ = try lbfgs.step(&x) { _ in (0, [2]) }
        XCTAssertEqual(x, [-3])
    }

    func testFailedEvaluationLeavesStateUntouched() throws {
        let lbfgs = try LBFGS()
        var x: [Float] = [1, 2]
        XCTAssertThrowsError(try lbfgs.step(&x) { _ in throw NSTError.state("no style") })
        XCTAssertThrowsError(try lbfgs.step(&x) { _ in (1, [.infinity, 0]) })
        XCTAssertEqual(x, [1, 2])
        XCTAssertEqual(lbfgs.iteration, 0)
    }

    func testRejectsBadParameters() {
        XCTAssertThrowsError(try LBFGS(historySize: 0))
        XCTAssertThrowsError(try LBFGS(learningRate: .nan))
        XCTAssertThrowsError(try LBFGS(learningRate: -1))
    }
}
