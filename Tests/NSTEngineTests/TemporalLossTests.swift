import XCTest
@testable import NSTEngine

final class TemporalLossTests: XCTestCase {
    /// As PreviewAnchorTests: a smooth network (positive weights, average pooling) for central differences.
    static let network = try! FeatureNetwork(architecture: .vgg19, weights: SharedWeights.vgg19Positive)
    static let (height, width) = (32, 34)

    func image(_ seed: UInt64) -> [Float] {
        randomFloats(3 * Self.height * Self.width, in: 0.1...1, seed: seed)
    }

    /// Weights 0 (an occluded quarter) or 0.5..2, so the mask is not a constant.
    var pixelWeights: [Float] {
        randomFloats(Self.height * Self.width, in: 0.5...2, seed: 9).enumerated().map { $0.offset % 4 == 0 ? 0 : $0.element }
    }

    func session(temporal: Bool = true) throws -> StyleTransferSession {
        var c = StyleTransferSession.Configuration()
        (c.height, c.width, c.pooling, c.lbfgsHistory) = (Self.height, Self.width, .average, 5)
        let s = try StyleTransferSession(network: Self.network, configuration: c)
        try s.setContentLayers([("relu2_1", 1)])
        try s.setStyleLayers([("relu1_1", 1)])
        try image(1).withUnsafeBufferPointer { try s.setContent(image: $0) }
        try image(2).withUnsafeBufferPointer { try s.addStyle(image: $0, height: Self.height, width: Self.width, weight: 1) }
        if temporal {
            try image(3).withUnsafeBufferPointer { t in
                try pixelWeights.withUnsafeBufferPointer { try s.setTemporalTarget(t, pixelWeights: $0) }
            }
        }
        return s
    }

    func evaluate(_ s: StyleTransferSession, _ x: [Float]) throws -> (ObjectiveLosses, [Float]) {
        var g = [Float](repeating: 0, count: x.count)
        let losses = try x.withUnsafeBufferPointer { xs in try g.withUnsafeMutableBufferPointer { try s.evaluate(image: xs, gradient: $0) } }
        return (losses, g)
    }

    /// The term computed directly from its definition, and the rest of the objective left as it was.
    func testTemporalTermIsTheWeightedMeanSquaredDistance() throws {
        let x = image(4), target = image(3), w = pixelWeights
        let pixels = Self.height * Self.width
        var expected = 0.0
        for c in 0..<3 {
            for p in 0..<pixels {
                let d = Double(x[c * pixels + p]) - Double(target[c * pixels + p])
                expected += Double(w[p]) * d * d
            }
        }
        expected /= Double(3 * pixels)
        let (with, _) = try evaluate(try session(), x)
        let (without, _) = try evaluate(try session(temporal: false), x)
        XCTAssertEqual(with.temporal, expected, accuracy: 1e-9 * expected)
        XCTAssertEqual(without.temporal, 0)
        XCTAssertEqual(with.content, without.content)
        XCTAssertEqual(with.style, without.style)
        XCTAssertEqual(with.total, without.total + with.temporal, accuracy: 1e-9 * with.total)
    }

    /// The whole objective's gradient with the term, against central differences (tolerance as
    /// PreviewAnchorTests); the coordinates include occluded pixels (weight 0).
    func testGradientMatchesFiniteDifferences() throws {
        let s = try session()
        let x = image(4)
        let (_, g) = try evaluate(s, x)
        let indices = (0..<60).map { ($0 * 53) % x.count }
        let numeric = try centralDifferences(at: x, h: 1e-3, indices: indices) { v in
            try v.withUnsafeBufferPointer { try s.evaluate(image: $0, gradient: nil).total }
        }
        assertClose(indices.map { g[$0] }, numeric, tolerance: 2e-3)
        // The term's own gradient, exactly: the difference of the two sessions' gradients.
        let (_, plain) = try evaluate(try session(temporal: false), x)
        let pixels = Self.height * Self.width, target = image(3), w = pixelWeights
        let expected = x.indices.map { 2 * w[$0 % pixels] * (x[$0] - target[$0]) / Float(3 * pixels) }
        assertClose(zip(g, plain).map { $0 - $1 }, expected, tolerance: 1e-6)
    }

    func testRemovingTheTargetAndRefusedArguments() throws {
        let s = try session()
        let pixels = Self.height * Self.width
        func refused(_ target: [Float], _ weights: [Float]?, _ check: (NSTError) -> Bool) {
            XCTAssertThrowsError(try target.withUnsafeBufferPointer { t in
                if let weights {
                    try weights.withUnsafeBufferPointer { try s.setTemporalTarget(t, pixelWeights: $0) }
                } else {
                    try s.setTemporalTarget(t, pixelWeights: nil)
                }
            }) { XCTAssertTrue(($0 as? NSTError).map(check) ?? false, "\($0)") }
        }
        let isShape = { (e: NSTError) in if case .shape = e { true } else { false } }
        let isNumeric = { (e: NSTError) in if case .numeric = e { true } else { false } }
        let isInvalid = { (e: NSTError) in if case .invalidArgument = e { true } else { false } }
        refused(image(3), nil, isInvalid)
        refused(Array(image(3).dropLast()), pixelWeights, isShape)
        refused(image(3), Array(pixelWeights.dropLast()), isShape)
        refused(image(3), [Float](repeating: -1, count: pixels), isInvalid)
        refused(image(3), [Float](repeating: .nan, count: pixels), isNumeric)
        refused([Float](repeating: .infinity, count: 3 * pixels), pixelWeights, isNumeric)
        // The refusals left the term in place; removing it gives the plain objective back.
        XCTAssertGreaterThan(try evaluate(s, image(4)).0.temporal, 0)
        try s.setTemporalTarget(nil, pixelWeights: nil)
        XCTAssertEqual(try evaluate(s, image(4)).0, try evaluate(try session(temporal: false), image(4)).0)
    }

    /// A step's best losses carry the term, and a state written and read back keeps it.
    func testStateKeepsTheBestTemporalLoss() throws {
        let s = try session()
        try image(4).withUnsafeBufferPointer { try s.setImage($0) }
        try s.step(count: 2)
        let best = try XCTUnwrap(s.bestProgress)
        XCTAssertGreaterThan(best.losses.temporal, 0)
        let restored = try session()
        try s.exportState().withUnsafeBytes { try restored.importState($0) }
        XCTAssertEqual(restored.bestProgress, best)
    }

    /// The prediction counts the target and its weights.
    func testPredictionCountsTheTarget() throws {
        let with = try session().predictPeakMemory(), without = try session(temporal: false).predictPeakMemory()
        XCTAssertEqual(with.targets - without.targets, 4 * 4 * Self.height * Self.width)
    }
}
