import XCTest
@testable import NSTEngine

/// `BFloat16` rounding, and `CorrectionPairs`' ring and direction, from the kept inner products and by the
/// recursion over the vectors, against a direct Double transcription of the two-loop recursion (Nocedal &
/// Wright, algorithm 7.4) over the stored (rounded) vectors.
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

    /// `−H g` with the newest `pairs.count` of `offered` (s, y as stored), oldest first: algorithm 7.4 of
    /// Nocedal and Wright transcribed in Double, vector by vector.
    private func referenceDirection<E: StoredFloat>(_: E.Type, gradient: [Float], pairs offered: [(s: [Float], y: [Float])]) -> [Double] {
        let stored = offered.map { pair in (s: pair.s.map { Double(E(rounding: $0).float) }, y: pair.y.map { Double(E(rounding: $0).float) }) }
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        var q = gradient.map { -Double($0) }
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

    /// `pairs.direction` with two workers: the move for step length `t` and the slope g·d.
    private func direction<E>(_ pairs: CorrectionPairs<E>, gradient: [Float], scaledBy t: Float = 1) -> (move: [Float], slope: Double) {
        var move = [Float](repeating: .nan, count: gradient.count)
        let slope = Parallel.withThreadCount(2) {
            gradient.withUnsafeBufferPointer { g in
                move.withUnsafeMutableBufferPointer { pairs.direction(gradient: g.baseAddress!, scaledBy: t, into: $0.baseAddress!) }
            }
        }
        return (move, slope)
    }

    /// A random pair with positive curvature (y = a ⊙ s + noise, a in [1, 3]) as `offer` takes it.
    private func randomPair(_ n: Int, seed: UInt64) -> (s: [Float], gradient: [Float], previous: [Float]) {
        let s = randomFloats(n, in: -1...1, seed: seed)
        let scale = randomFloats(n, in: 1...3, seed: seed + 100), noise = randomFloats(n, in: -0.1...0.1, seed: seed + 200)
        let previous = randomFloats(n, in: -5...5, seed: seed + 300)
        return (s, (0..<n).map { previous[$0] + scale[$0] * s[$0] + noise[$0] }, previous)
    }

    /// Five pairs on `n` values: after each offer the direction over the ring (capacity 3, so it wraps twice)
    /// equals the reference over the newest three to Float rounding: max |move − t·d_ref| ≤ 2⁻²³ · max |t·d_ref|
    /// (the move is t·d rounded to Float, t = 0.5 exact; both accumulate in Double, so only the last rounding
    /// and the summation order differ), and the slope g·d to 1e-6 relative.
    private func assertDirectionMatchesReference<E: StoredFloat>(_ type: E.Type, count n: Int, tracksProducts: Bool) {
        let pairs = CorrectionPairs<E>(capacity: 3, count: n, tracksProducts: tracksProducts)
        var offered: [(s: [Float], y: [Float])] = []
        for k in 0..<5 {
            let (s, gradient, previous) = randomPair(n, seed: UInt64(20 + k))
            XCTAssertTrue(pairs.offer(step: s, gradient: gradient, previousGradient: previous, threshold: 1e-10))
            offered.append((s, (0..<n).map { gradient[$0] - previous[$0] }))
            let g = randomFloats(n, in: -1...1, seed: UInt64(60 + k))
            let (move, slope) = direction(pairs, gradient: g, scaledBy: 0.5)
            let expected = referenceDirection(E.self, gradient: g, pairs: Array(offered.suffix(3))).map { 0.5 * $0 }
            let largest = expected.reduce(0.0) { max($0, abs($1)) }
            let error = zip(move, expected).reduce(0.0) { max($0, abs(Double($1.0) - $1.1)) }
            let what = "\(E.self), \(n) values, products \(tracksProducts), after offer \(k + 1)"
            XCTAssertLessThanOrEqual(error, largest * 0x1p-23, what)
            let expectedSlope = zip(g, expected).reduce(0.0) { $0 + Double($1.0) * $1.1 / 0.5 }
            XCTAssertEqual(slope, expectedSlope, accuracy: 1e-6 * abs(expectedSlope), what)
            XCTAssertEqual(pairs.held, min(k + 1, 3))
        }
    }

    func testDirectionMatchesReferenceRecursion() {
        for tracksProducts in [true, false] {
            // 40 000 values: two workers' chunks; 9 000: one chunk with a partial block.
            for n in [40_000, 9_001] {
                assertDirectionMatchesReference(Float.self, count: n, tracksProducts: tracksProducts)
                assertDirectionMatchesReference(BFloat16.self, count: n, tracksProducts: tracksProducts)
            }
        }
    }

    func testProductsAreTrackedOnlyWhenSmall() {
        XCTAssertTrue(CorrectionPairs<Float>(capacity: 100, count: 6_400).tracksProducts)
        XCTAssertFalse(CorrectionPairs<Float>(capacity: 100, count: 6_399).tracksProducts)
    }

    /// The products kept between steps stay right through the ring's wrap, a state export and import
    /// (which recomputes them all, 24 vectors at once, in shorter blocks) and a clear: every direction
    /// equals the recursion's over the same pairs.
    func testKeptProductsFollowTheRing() throws {
        let n = 20_000
        let kept = CorrectionPairs<Float>(capacity: 12, count: n, tracksProducts: true)
        let recursion = CorrectionPairs<Float>(capacity: 12, count: n, tracksProducts: false)
        func assertSameDirection(_ what: String, _ pairs: CorrectionPairs<Float>, seed: UInt64) {
            let g = randomFloats(n, in: -1...1, seed: seed)
            let (a, b) = (direction(pairs, gradient: g).move, direction(recursion, gradient: g).move)
            let largest = b.reduce(0) { max($0, abs($1)) }
            XCTAssertLessThanOrEqual(zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }, largest * 0x1p-22, what)
        }
        for k in 0..<18 {
            if k == 16 { kept.clear(); recursion.clear() }
            let (s, gradient, previous) = randomPair(n, seed: UInt64(500 + k))
            for pairs in [kept, recursion] { pairs.offer(step: s, gradient: gradient, previousGradient: previous, threshold: 1e-10) }
            // Two directions between offers: the second must reuse the products the first computed.
            assertSameDirection("after offer \(k + 1)", kept, seed: UInt64(700 + k))
            assertSameDirection("again after offer \(k + 1)", kept, seed: UInt64(800 + k))
            if k == 14 {
                var counter = StateWriter()
                kept.exportState(&counter)
                let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: counter.count, alignment: 8)
                defer { bytes.deallocate() }
                var writer = StateWriter(into: bytes)
                kept.exportState(&writer)
                let imported = CorrectionPairs<Float>(capacity: 12, count: n, tracksProducts: true)
                var reader = StateReader(UnsafeRawBufferPointer(bytes))
                try imported.importState(&reader, pairs: kept.held)
                assertSameDirection("after import", imported, seed: 900)
            }
        }
    }

    /// A pair failing the curvature condition (y·s <= threshold) changes nothing: the ring keeps its
    /// oldest pair and the direction stays the same.
    func testPairWithoutCurvatureIsNotStored() {
        for tracksProducts in [true, false] {
            let pairs = CorrectionPairs<BFloat16>(capacity: 2, count: 4, tracksProducts: tracksProducts)
            XCTAssertTrue(pairs.offer(step: [1, 0, 0, 0], gradient: [2, 0, 0, 0], previousGradient: [0, 0, 0, 0], threshold: 1e-10))
            XCTAssertTrue(pairs.offer(step: [0, 1, 0, 0], gradient: [0, 4, 0, 0], previousGradient: [0, 0, 0, 0], threshold: 1e-10))
            let before = direction(pairs, gradient: [-1, -1, -1, -1])
            XCTAssertEqual(before.move, [0.5, 0.25, 0.25, 0.25], "H = diag(1/2, 1/4) on the pairs' span, H0 = 1/4 elsewhere")
            XCTAssertEqual(before.slope, -1.25)
            XCTAssertFalse(pairs.offer(step: [0, 0, 1, 0], gradient: [0, 0, -1, 0], previousGradient: [0, 0, 0, 0], threshold: 1e-10))
            let after = direction(pairs, gradient: [-1, -1, -1, -1])
            XCTAssertEqual(after.move, before.move)
            XCTAssertEqual(pairs.held, 2)
        }
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
