import XCTest
@testable import NSTEngine

/// `BFloat16` rounding, and `CorrectionPairs`' ring and two-loop recursion against a direct transcription
/// of the recursion (Nocedal & Wright, algorithm 7.4) over the stored (rounded) vectors.
final class CorrectionPairsTests: XCTestCase {
    /// The reference: the nearer of the two bfloat16 neighbours of `v` (computed in Double), the one with
    /// an even last bit on a tie.
    private func referenceBFloat16(_ v: Float) -> UInt16 {
        let down = v.bitPattern & 0xFFFF_0000, up = down &+ 0x1_0000
        let (low, high) = (Double(Float(bitPattern: down)), Double(Float(bitPattern: up)))
        let (dLow, dHigh) = (abs(Double(v) - low), abs(Double(v) - high))
        let pick = dLow < dHigh ? down : dHigh < dLow ? up : ((down >> 16) & 1 == 0 ? down : up)
        return UInt16(pick >> 16)
    }

    func testBFloat16RoundsToNearestEven() {
        var values = randomFloats(20_000, in: -1...1, seed: 3).enumerated().map { $1 * powf(2, Float($0 % 60 - 30)) }
        // Exact ties (lower half 0x8000) with an even and an odd upper half, and values just beside them.
        for upper: UInt32 in [0x3F80, 0x3F81, 0xC2F6, 0xC2F7] {
            for lower: UInt32 in [0x7FFF, 0x8000, 0x8001] { values.append(Float(bitPattern: upper << 16 | lower)) }
        }
        values += [0, -0, 1, -1, .leastNormalMagnitude, .leastNonzeroMagnitude, 3.3e38]
        for v in values {
            XCTAssertEqual(BFloat16(rounding: v).bitPattern, referenceBFloat16(v), "\(v) (bits \(String(v.bitPattern, radix: 16)))")
        }
        XCTAssertEqual(BFloat16(rounding: 1.5).float, 1.5, "exact values pass unchanged")
        XCTAssertEqual(BFloat16(rounding: 3.4e38).float, .infinity, "past the largest bfloat16 and half its spacing")
        XCTAssertEqual(Float(rounding: 0.1).float, 0.1, "Float32 storage is the identity")
    }

    /// `q ← H q` with the newest `pairs.count` of `offered` (s, y as stored), oldest first.
    private func referenceInverseHessian<E: StoredFloat>(_: E.Type, q: [Double], pairs offered: [(s: [Float], y: [Float])]) -> [Double] {
        let stored = offered.map { pair in (s: pair.s.map { Double(E(rounding: $0).float) }, y: pair.y.map { Double(E(rounding: $0).float) }) }
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        var q = q
        var alpha = [Double](repeating: 0, count: stored.count)
        for i in stored.indices.reversed() {
            alpha[i] = dot(stored[i].s, q) / dot(stored[i].y, stored[i].s)
            q = zip(q, stored[i].y).map { $0 - alpha[i] * $1 }
        }
        let newest = stored[stored.count - 1]
        let gamma = dot(newest.s, newest.y) / dot(newest.y, newest.y)
        q = q.map { gamma * $0 }
        for i in stored.indices {
            let beta = dot(stored[i].y, q) / dot(stored[i].y, stored[i].s)
            q = zip(q, stored[i].s).map { $0 + (alpha[i] - beta) * $1 }
        }
        return q
    }

    /// Five pairs with positive curvature (y = a ⊙ s + noise, a in [1, 3]) on 40 000 values (two workers'
    /// chunks): after each offer the recursion over the ring (capacity 3, so it wraps twice) equals the
    /// reference over the newest three to 1e-10 relative (both in Double; only summation order differs).
    private func assertTwoLoopMatchesReference<E: StoredFloat>(_ type: E.Type) {
        let n = 40_000
        let pairs = CorrectionPairs<E>(capacity: 3, count: n)
        var offered: [(s: [Float], y: [Float])] = []
        let q0 = randomFloats(n, in: -1...1, seed: 10).map(Double.init)
        for k in 0..<5 {
            let s = randomFloats(n, in: -1...1, seed: UInt64(20 + k))
            let scale = randomFloats(n, in: 1...3, seed: UInt64(30 + k)), noise = randomFloats(n, in: -0.1...0.1, seed: UInt64(40 + k))
            let previous = randomFloats(n, in: -5...5, seed: UInt64(50 + k))
            let gradient = (0..<n).map { previous[$0] + scale[$0] * s[$0] + noise[$0] }
            XCTAssertTrue(pairs.offer(step: s, gradient: gradient, previousGradient: previous, threshold: 1e-10))
            offered.append((s, (0..<n).map { gradient[$0] - previous[$0] }))
            var q = q0
            Parallel.withThreadCount(2) { q.withUnsafeMutableBufferPointer { pairs.applyInverseHessian(to: $0.baseAddress!) } }
            let expected = referenceInverseHessian(E.self, q: q0, pairs: Array(offered.suffix(3)))
            let error = zip(q, expected).reduce(0.0) { max($0, abs($1.0 - $1.1)) } / expected.reduce(0.0) { max($0, abs($1)) }
            XCTAssertLessThan(error, 1e-10, "\(E.self) after offer \(k + 1)")
            XCTAssertEqual(pairs.held, min(k + 1, 3))
        }
    }

    func testTwoLoopMatchesReferenceRecursion() {
        assertTwoLoopMatchesReference(Float.self)
        assertTwoLoopMatchesReference(BFloat16.self)
    }

    /// A pair failing the curvature condition (y·s <= threshold) changes nothing: the ring keeps its
    /// oldest pair and the recursion gives the same result.
    func testPairWithoutCurvatureIsNotStored() {
        let pairs = CorrectionPairs<BFloat16>(capacity: 2, count: 4)
        XCTAssertTrue(pairs.offer(step: [1, 0, 0, 0], gradient: [2, 0, 0, 0], previousGradient: [0, 0, 0, 0], threshold: 1e-10))
        XCTAssertTrue(pairs.offer(step: [0, 1, 0, 0], gradient: [0, 4, 0, 0], previousGradient: [0, 0, 0, 0], threshold: 1e-10))
        var before: [Double] = [1, 1, 1, 1]
        pairs.applyInverseHessian(to: &before)
        XCTAssertEqual(before, [0.5, 0.25, 0.25, 0.25], "H = diag(1/2, 1/4) on the pairs' span, H0 = 1/4 elsewhere")
        XCTAssertFalse(pairs.offer(step: [0, 0, 1, 0], gradient: [0, 0, -1, 0], previousGradient: [0, 0, 0, 0], threshold: 1e-10))
        var after: [Double] = [1, 1, 1, 1]
        pairs.applyInverseHessian(to: &after)
        XCTAssertEqual(after, before)
        XCTAssertEqual(pairs.held, 2)
    }

    /// With bfloat16 pairs L-BFGS still converges on the quadratic of `LBFGSTests`, and its first step
    /// (no pairs yet) is Float32's exactly.
    func testBFloat16LBFGSMinimisesQuadratic() throws {
        var f = Quadratic(dimension: 50), g = Quadratic(dimension: 50)
        let rounded = try LBFGS(historySize: 10, storage: .bfloat16), exact = try LBFGS(historySize: 10)
        var x = [Float](repeating: 0, count: 50), y = x
        _ = try rounded.step(&x) { f.evaluate($0) }
        _ = try exact.step(&y) { g.evaluate($0) }
        XCTAssertEqual(x, y)
        for _ in 0..<99 { _ = try rounded.step(&x) { f.evaluate($0) } }
        assertClose(x, f.c, tolerance: 1e-4, "minimum")
    }
}

extension StyleTransferSessionTests {
    /// bfloat16 pairs halve the pairs' part of the prediction and nothing else.
    func testPredictionCountsPairsAtTheirWidth() throws {
        let exact = try makeSession { $0.lbfgsHistory = 5 }
        let rounded = try makeSession { $0.lbfgsHistory = 5; $0.lbfgsStorage = .bfloat16 }
        let (a, b) = (try exact.predictPeakMemory(), try rounded.predictPeakMemory())
        XCTAssertEqual(a.optimizer - b.optimizer, 5 * 2 * 2 * exact.imageCount)
        XCTAssertEqual(a.total - b.total, a.optimizer - b.optimizer)
    }
}
