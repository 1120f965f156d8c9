import XCTest
@testable import NSTEngine

final class PreviewAnchorTests: XCTestCase {
    /// Positive weights with average pooling: the network is smooth in the image, so central
    /// differences are reliable (as in StyleTransferObjectiveTests).
    static let network = try! FeatureNetwork(architecture: .vgg19, weights: SharedWeights.vgg19Positive)
    /// A session starts with the default layers, which need 32 px; 34 is not a multiple of 4.
    static let (height, width, factor) = (32, 34, 2)
    static let content: [(name: String, weight: Float)] = [("relu2_1", 1)]
    static let style: [(name: String, weight: Float)] = [("relu1_1", 1), ("relu2_1", 0.5)]

    func configuration(height: Int = height, width: Int = width) -> StyleTransferSession.Configuration {
        var c = StyleTransferSession.Configuration()
        (c.height, c.width, c.pooling, c.lbfgsHistory) = (height, width, .average, 5)
        return c
    }

    func image(_ seed: UInt64, height: Int = height, width: Int = width) -> [Float] {
        randomFloats(3 * height * width, in: 0.1...1, seed: seed)
    }

    /// A session with the test's layers, the anchor (unless `factor` is 0), content, a 13x11 style image
    /// (odd sizes: the anchor leaves out the last row and column) and image.
    func session(factor: Int = factor, weight: Float = 0.7, height: Int = height, width: Int = width,
                 content: [Float]? = nil, style: [Float]? = nil) throws -> StyleTransferSession {
        let s = try StyleTransferSession(network: Self.network, configuration: configuration(height: height, width: width))
        try s.setContentLayers(Self.content)
        try s.setStyleLayers(Self.style)
        if factor > 0 { try s.setAnchor(factor: factor, weight: weight) }
        try (content ?? image(1)).withUnsafeBufferPointer { try s.setContent(image: $0) }
        try (style ?? image(2, height: 13, width: 11)).withUnsafeBufferPointer {
            try s.addStyle(image: $0, height: style == nil ? 13 : 6, width: style == nil ? 11 : 5, weight: 1)
        }
        return s
    }

    /// Block means computed directly, crop included: the reference for `BoxDownsampling.average`.
    func blockMeans(_ x: [Float], height: Int, width: Int, factor: Int) -> [Float] {
        let (h, w) = (height / factor, width / factor)
        var out = [Float](repeating: 0, count: 3 * h * w)
        for c in 0..<3 {
            for y in 0..<h {
                for x0 in 0..<w {
                    var sum = 0.0
                    for dy in 0..<factor {
                        for dx in 0..<factor { sum += Double(x[(c * height + y * factor + dy) * width + x0 * factor + dx]) }
                    }
                    out[(c * h + y) * w + x0] = Float(sum / Double(factor * factor))
                }
            }
        }
        return out
    }

    func testAverageIsTheBlockMeanAndAddAdjointIsItsTranspose() {
        let (height, width, factor) = (13, 11, 3)
        let x = randomFloats(3 * height * width, seed: 7)
        let y = randomFloats(3 * (height / factor) * (width / factor), seed: 8)
        var dx = [Float](repeating: 0, count: x.count)
        var down = [Float](repeating: 0, count: y.count)
        x.withUnsafeBufferPointer { BoxDownsampling.average($0.baseAddress!, channels: 3, height: height, width: width, factor: factor, into: &down) }
        assertClose(down, blockMeans(x, height: height, width: width, factor: factor), tolerance: 1e-6)
        y.withUnsafeBufferPointer {
            BoxDownsampling.addAdjoint(of: $0.baseAddress!, channels: 3, height: height, width: width, factor: factor, weight: 2, into: &dx)
        }
        // <D x, y> = <x, Dᵀ y> (times the weight 2); the cropped last rows and columns receive nothing.
        XCTAssertEqual(2 * dot(down, y), dot(x, dx), accuracy: 1e-5 * abs(dot(x, dx)))
        XCTAssertEqual(dx[(height - 1) * width], 0)
        XCTAssertEqual(dx[width - 1], 0)
    }

    /// The anchored losses and gradient are the session's plus `weight` times those of an independent
    /// session at the preview size on the block means of the image, content and style.
    func testAnchoredObjectiveIsTheSumOfBothSizes() throws {
        let anchored = try session()
        let plain = try session(factor: 0)
        let (h, w, f) = (Self.height / Self.factor, Self.width / Self.factor, Self.factor)
        let preview = try session(factor: 0, height: h, width: w,
                                  content: blockMeans(image(1), height: Self.height, width: Self.width, factor: f),
                                  style: blockMeans(image(2, height: 13, width: 11), height: 13, width: 11, factor: f))
        let x = image(3)
        let small = blockMeans(x, height: Self.height, width: Self.width, factor: f)
        func evaluate(_ s: StyleTransferSession, _ v: [Float]) throws -> (ObjectiveLosses, [Float]) {
            var g = [Float](repeating: 0, count: v.count)
            let l = try v.withUnsafeBufferPointer { xs in try g.withUnsafeMutableBufferPointer { try s.evaluate(image: xs, gradient: $0) } }
            return (l, g)
        }
        let (la, ga) = try evaluate(anchored, x)
        let (lp, gp) = try evaluate(plain, x)
        let (lq, gq) = try evaluate(preview, small)
        XCTAssertEqual(la.content, lp.content + 0.7 * lq.content, accuracy: 1e-5 * la.content)
        XCTAssertEqual(la.style, lp.style + 0.7 * lq.style, accuracy: 1e-5 * la.style)
        XCTAssertEqual(la.tv, lp.tv + 0.7 * lq.tv, accuracy: 1e-5 * la.tv)
        var expected = gp
        gq.withUnsafeBufferPointer {
            BoxDownsampling.addAdjoint(of: $0.baseAddress!, channels: 3, height: Self.height, width: Self.width, factor: f, weight: 0.7, into: &expected)
        }
        assertClose(ga, expected, tolerance: 1e-5)
        XCTAssertGreaterThan(lq.total, 0)
    }

    /// Against central differences; tolerance as StyleTransferObjectiveTests (float evaluations of a
    /// smooth objective, step 1e-3).
    func testGradientMatchesFiniteDifferences() throws {
        let s = try session()
        let x = image(4)
        var g = [Float](repeating: 0, count: x.count)
        _ = try x.withUnsafeBufferPointer { xs in try g.withUnsafeMutableBufferPointer { try s.evaluate(image: xs, gradient: $0) } }
        // 60 coordinates spread over the channels, both crop-free blocks and every block position.
        let indices = (0..<60).map { ($0 * 53) % x.count }
        let numeric = try centralDifferences(at: x, h: 1e-3, indices: indices) { v in
            try v.withUnsafeBufferPointer { try s.evaluate(image: $0, gradient: nil).total }
        }
        assertClose(indices.map { g[$0] }, numeric, tolerance: 2e-3)
    }

    func testSetAnchorChecksItsArgumentsAndOrder() throws {
        let fresh = { try StyleTransferSession(network: Self.network, configuration: self.configuration()) }
        XCTAssertThrowsError(try fresh().setAnchor(factor: 1, weight: 1)) { XCTAssertTrue(($0 as? NSTError).map { if case .invalidArgument = $0 { true } else { false } } ?? false) }
        XCTAssertThrowsError(try fresh().setAnchor(factor: 2, weight: 0))
        XCTAssertThrowsError(try fresh().setAnchor(factor: 2, weight: .nan))
        XCTAssertThrowsError(try fresh().setAnchor(factor: 4, weight: 1)) {  // 4 does not divide 34
            XCTAssertTrue(($0 as? NSTError).map { if case .shape = $0 { true } else { false } } ?? false)
        }
        let configured = try session()
        XCTAssertThrowsError(try configured.setAnchor(factor: 2, weight: 1)) {
            XCTAssertEqual($0 as? NSTError, .state("set the anchor before the content and style images"))
        }
        XCTAssertEqual(configured.anchorSettings?.factor, 2)
        XCTAssertEqual(configured.anchorSettings?.weight, 0.7)
        let removed = try fresh()
        try removed.setAnchor(factor: 2, weight: 1)
        try removed.setAnchor(factor: 0, weight: 1)
        XCTAssertNil(removed.anchorSettings)
    }

    /// Replacing the content layers keeps the anchor and its style targets (and needs a new content image).
    func testLayerChangesKeepTheAnchor() throws {
        let s = try session()
        try s.setContentLayers([("relu1_2", 1)])
        XCTAssertEqual(s.anchorSettings?.factor, 2)
        let x = image(5)
        XCTAssertThrowsError(try x.withUnsafeBufferPointer { try s.evaluate(image: $0, gradient: nil) })
        try image(1).withUnsafeBufferPointer { try s.setContent(image: $0) }
        XCTAssertNoThrow(try x.withUnsafeBufferPointer { try s.evaluate(image: $0, gradient: nil) })
    }

    /// The prediction adds the preview's buffers: with a whole-image evaluation all of them.
    func testPredictionCountsTheAnchor() throws {
        let anchored = try session()
        let plain = try session(factor: 0)
        let a = try anchored.predictPeakMemory()
        let p = try plain.predictPeakMemory()
        XCTAssertEqual(p.anchor, 0)
        XCTAssertGreaterThan(a.anchor, 0)
        XCTAssertEqual(a.total - a.anchor, p.total)
    }
}
