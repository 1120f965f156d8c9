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

    /// Image-sized vectors: the two-loop recursion is split between workers (3: uneven chunks); the
    /// trajectory must match the single-worker one to rounding and still reach the minimum.
    func testParallelTwoLoopMatchesSerial() throws {
        func run(threads: Int) throws -> [Float] {
            try Parallel.withThreadCount(threads) {
                var f = Quadratic(dimension: 50_001)
                let lbfgs = try LBFGS(historySize: 7)
                var x = [Float](repeating: 0, count: 50_001)
                for _ in 0..<30 { _ = try lbfgs.step(&x) { f.evaluate($0) } }
                return x
            }
        }
        let serial = try run(threads: 1)
        assertClose(try run(threads: 3), serial, tolerance: 1e-5, "3 workers vs 1")
        assertClose(serial, Quadratic(dimension: 50_001).c, tolerance: 1e-3, "minimum")
    }

    /// The direction from the kept inner products (the default for image-sized vectors) gives the
    /// recursion's iterates: 25 steps with 6 pairs on 30 000 values, each iterate within 1e-5 of the
    /// largest value (Float rounding of the moves, compounded over the steps; observed: bitwise equal).
    func testDirectionFromProductsKeepsTheRecursionsIterates() throws {
        func run(tracksProducts: Bool) throws -> [[Float]] {
            var f = Quadratic(dimension: 30_000)
            let lbfgs = try LBFGS(historySize: 6)
            lbfgs.pairProducts = tracksProducts
            var x = [Float](repeating: 0, count: 30_000)
            return try (0..<25).map { _ in
                _ = try lbfgs.step(&x) { f.evaluate($0) }
                return x
            }
        }
        let (products, recursion) = (try run(tracksProducts: true), try run(tracksProducts: false))
        for (k, (a, b)) in zip(products, recursion).enumerated() {
            let largest = b.reduce(0) { max($0, abs($1)) }
            XCTAssertLessThanOrEqual(zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }, 1e-5 * largest, "iterate \(k + 1)")
        }
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
        let lbfgs = try LBFGS(historySize: 10)
        var x: [Float] = [0, 0]
        _ = try lbfgs.step(&x) { _ in (1, [3, -1]) }   // |g|₁ = 4 → t = 1/4
        assertClose(x, [-0.75, 0.25], tolerance: 1e-6)
        var y: [Float] = [0, 0]
        let small = try LBFGS(historySize: 10)
        _ = try small.step(&y) { _ in (1, [0.1, -0.2]) }  // |g|₁ < 1 → t = 1
        assertClose(y, [-0.1, 0.2], tolerance: 1e-6)
    }

    func testSecondStepIsExactNewtonOnOneDimensionalQuadratic() throws {
        // On f = ½ a x², one curvature pair gives H₀ = s·y / y·y = 1/a: the second step lands on 0.
        var f = Quadratic(dimension: 1)
        let lbfgs = try LBFGS(historySize: 10)
        var x: [Float] = [5]
        _ = try lbfgs.step(&x) { f.evaluate($0) }
        _ = try lbfgs.step(&x) { f.evaluate($0) }
        assertClose(x, f.c, tolerance: 1e-5)
    }

    func testTrajectoryMatchesTorchOptimLBFGS() throws {
        // Iterates of a float64 transcription of torch optim/lbfgs.lua (no line search, tolX =
        // tolFun = -1, nCorrection 2 so the oldest pair is dropped) on ½xᵀAx − bᵀx from 0.
        let a: [[Float]] = [[4, 1, 0.5], [1, 3, 0.2], [0.5, 0.2, 2]], b: [Float] = [1, -2, 0.5]
        let expected: [[Float]] = [
            [0.2857143, -0.5714286, 0.1428571], [0.4432566, -0.8171661, 0.2259625],
            [0.4164311, -0.8340307, 0.2225176], [0.4281869, -0.8244741, 0.2244079],
            [0.4280765, -0.8244010, 0.2248304], [0.4279035, -0.8243354, 0.2254597],
        ]
        let lbfgs = try LBFGS(historySize: 2)
        var x: [Float] = [0, 0, 0]
        for (k, iterate) in expected.enumerated() {
            _ = try lbfgs.step(&x) { x in
                let g = (0..<3).map { i in (0..<3).reduce(-b[i]) { $0 + a[i][$1] * x[$1] } }
                let loss = (0..<3).reduce(0.0) { $0 + Double(x[$1]) * (0.5 * Double(g[$1] - b[$1])) }  // ½xᵀAx − bᵀx
                return (loss, g)
            }
            assertClose(x, iterate, tolerance: 1e-5, "iterate \(k + 1)")
        }
    }

    func testSkipsPairsWithoutCurvature() throws {
        // A linear function (constant gradient): y = 0, so y·s = 0 and no pair is stored; the
        // direction stays −g, with t = min(1, 1/2) first and lr = 1 after.
        let lbfgs = try LBFGS(historySize: 10)
        var x: [Float] = [0]
        _ = try lbfgs.step(&x) { _ in (0, [2]) }
        XCTAssertEqual(x, [-1])
        _ = try lbfgs.step(&x) { _ in (0, [2]) }
        XCTAssertEqual(x, [-3])
    }

    func testFailedEvaluationLeavesStateUntouched() throws {
        let lbfgs = try LBFGS(historySize: 10)
        var x: [Float] = [1, 2]
        XCTAssertThrowsError(try lbfgs.step(&x) { _ in throw NSTError.state("no style") })
        XCTAssertThrowsError(try lbfgs.step(&x) { _ in (1, [.infinity, 0]) })
        XCTAssertEqual(x, [1, 2])
        XCTAssertEqual(lbfgs.iteration, 0)
    }

    /// Rosenbrock from (−1.2, 1): without the line search some steps raise the loss; with it every step's
    /// loss (of the point it moved to) is at most the one before, the minimum is reached, and the
    /// backtracking costs extra evaluations only where it shortened a move.
    func testLineSearchNeverRaisesTheLoss() throws {
        func rosenbrock(_ x: [Float]) -> (loss: Double, gradient: [Float]) {
            let u = Double(x[0]), v = Double(x[1])
            let loss = (1 - u) * (1 - u) + 100 * (v - u * u) * (v - u * u)
            return (loss, [Float(-2 * (1 - u) - 400 * u * (v - u * u)), Float(200 * (v - u * u))])
        }
        func run(lineSearch: Bool, storage: LBFGSStorage = .float32) throws -> (losses: [Double], x: [Float], evaluations: Int) {
            let lbfgs = try LBFGS(historySize: 5, storage: storage, lineSearch: lineSearch)
            var x: [Float] = [-1.2, 1]
            var evaluations = 0
            let losses = try (0..<200).map { _ in try lbfgs.step(&x) { evaluations += 1; return rosenbrock($0) } }
            return (losses, x, evaluations)
        }
        let plain = try run(lineSearch: false)
        XCTAssertTrue(zip(plain.losses, plain.losses.dropFirst()).contains { $1 > $0 }, "the plain run has a rise")
        for storage in LBFGSStorage.allCases {
            let searched = try run(lineSearch: true, storage: storage)
            for (k, (before, after)) in zip(searched.losses, searched.losses.dropFirst()).enumerated() {
                XCTAssertLessThanOrEqual(after, before, "\(storage), step \(k + 2)")
            }
            XCTAssertLessThan(searched.losses.last!, 1e-6, "\(storage)")
            assertClose(searched.x, [1, 1], tolerance: 2e-3, "minimum, \(storage)")
            XCTAssertGreaterThan(searched.evaluations, 201, "the first step evaluates twice, and some moves were shortened")
            XCTAssertLessThan(searched.evaluations, 400, "\(storage)")
        }
    }

    /// On a quadratic: each step returns the loss at the point it moved to, never above the step before;
    /// backtracking is the exception (measured: 1 shortened move in the first 10 steps, 12 in 100, most once
    /// the loss is near float32 rounding); the minimum is reached as without the search.
    func testLineSearchOnAQuadratic() throws {
        var f = Quadratic(dimension: 50)
        let lbfgs = try LBFGS(historySize: 10, lineSearch: true)
        var x = [Float](repeating: 0, count: 50)
        var previous = Double.infinity
        for k in 0..<100 {
            let loss = try lbfgs.step(&x) { f.evaluate($0) }
            var check = Quadratic(dimension: 50)
            XCTAssertEqual(loss, check.evaluate(x).loss, "step \(k + 1): the loss at the new x")
            XCTAssertLessThanOrEqual(loss, previous, "step \(k + 1)")
            previous = loss
        }
        XCTAssertLessThan(f.evaluations, 130)
        assertClose(x, f.c, tolerance: 1e-4, "minimum")
    }

    /// A trial whose evaluation fails leaves `x` and the state as they were, and the next step starts over.
    func testLineSearchFailedTrialLeavesStateUntouched() throws {
        var f = Quadratic(dimension: 4)
        let lbfgs = try LBFGS(historySize: 10, lineSearch: true)
        var x: [Float] = [3, 3, 3, 3]
        var calls = 0
        XCTAssertThrowsError(try lbfgs.step(&x) { point in
            calls += 1
            if calls == 2 { throw NSTError.cancelled }
            return f.evaluate(point)
        })
        XCTAssertEqual(x, [3, 3, 3, 3])
        XCTAssertEqual(lbfgs.iteration, 0)
        let loss = try lbfgs.step(&x) { f.evaluate($0) }
        XCTAssertEqual(loss, f.evaluate(x).loss, "the returned loss is the loss at the new x")
        XCTAssertEqual(lbfgs.iteration, 1)
        // An image of another size starts over, but only once its first evaluation succeeded.
        let (gradient, held) = (lbfgs.previousGradient, lbfgs.pairs.held)
        var other: [Float] = [1, 1, 1]
        XCTAssertThrowsError(try lbfgs.step(&other) { _ in throw NSTError.cancelled })
        XCTAssertEqual(other, [1, 1, 1])
        XCTAssertEqual(lbfgs.iteration, 1)
        XCTAssertEqual(lbfgs.previousGradient, gradient)
        XCTAssertEqual(lbfgs.pairs.held, held)
    }

    func testRejectsBadParameters() {
        XCTAssertThrowsError(try LBFGS(historySize: 0))
        XCTAssertThrowsError(try LBFGS(historySize: 10, learningRate: .nan))
        XCTAssertThrowsError(try LBFGS(historySize: 10, learningRate: -1))
    }
}

extension StyleTransferSessionTests {
    /// The direction's memory: with the pairs' inner products kept (history <= image values / 64), their
    /// (2m)² Doubles instead of a Double vector of the image's size.
    func testPredictionCountsTheDirectionsMemory() throws {
        let count = 3 * size * size
        let few = count / 64, many = count / 64 + 1
        let kept = try makeSession { $0.lbfgsHistory = few }.predictPeakMemory().optimizer
        let recursion = try makeSession { $0.lbfgsHistory = many }.predictPeakMemory().optimizer
        XCTAssertEqual(kept, (2 * few + 2) * 4 * count + 32 * few * few)
        XCTAssertEqual(recursion, (2 * many + 4) * 4 * count)
    }

    /// The line search's four image-sized arrays (direction, trial point, the rejected trial's point and
    /// gradient) are in the prediction of a step's peak, and nothing else changes.
    func testPredictionCountsTheLineSearchArrays() throws {
        let plain = try makeSession()
        let searching = try makeSession { $0.lbfgsHistory = 10; $0.lbfgsLineSearch = .armijo }
        let (a, b) = (try plain.predictPeakMemory(), try searching.predictPeakMemory())
        XCTAssertEqual(b.optimizer - a.optimizer, 4 * 4 * plain.imageCount)
        XCTAssertEqual(b.total - a.total, b.optimizer - a.optimizer)
    }
}
