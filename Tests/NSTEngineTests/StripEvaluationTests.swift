import XCTest
@testable import NSTEngine

/// Strip evaluation (`EvaluationStrategy.strips`) against the whole-image evaluation of the same objective:
/// the production kernels (Winograd), random signed weights, max pooling (ReLUs switching, argmax routing),
/// tiny strips so that every image is cut many times, odd sizes and sizes not multiples of the alignment.
///
/// Tolerance: 1e-5 relative (losses: to the loss; gradients: to the gradient's largest magnitude). A strip
/// window computes each kept value from exactly the same inputs as the whole image, but the float
/// rounding differs: Winograd's 4x4 tiles are laid on the window rather than on the image (the input
/// gradient's from the window's bottom edge), and Gram sums are split at strip boundaries. Winograd F(4x4,3x3)
/// itself is accurate to ~1.5e-5 of a layer's largest output, far above the rounding differences seen here.
/// A wrong halo or row offset gives errors of order 1 (checked by shrinking the halo once).
final class StripEvaluationTests: XCTestCase {
    static let network = try! FeatureNetwork(architecture: .vgg19, weights: SharedWeights.vgg19)
    static let tolerance = 1e-5

    struct Case {
        var height: Int, width: Int
        var split: String, rows: Int
        var content: [String] = ["relu4_2"]
        var style: [String] = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
        var styleLoss = StyleLossKind.gram
        var histogram: [String] = []
    }

    func image(_ seed: UInt64, _ height: Int, _ width: Int) -> [Float] {
        randomFloats(3 * height * width, in: -50...50, seed: seed)
    }

    /// An objective for `c` with a content image and two style images (one of another size), set with
    /// `strategy` in force.
    func objective(_ c: Case, _ strategy: EvaluationStrategy) throws -> StyleTransferObjective {
        let objective = try StyleTransferObjective(
            network: Self.network, height: c.height, width: c.width, contentLayers: c.content.map { ($0, 1) },
            styleLayers: c.style.enumerated().map { ($1, Float($0 + 1)) }, contentWeight: 5, styleWeight: 100,
            tvWeight: 1e-3, pooling: .max, styleLoss: c.styleLoss, histogramLayers: c.histogram.map { ($0, 1) },
            histogramWeight: 2)
        try objective.setStrategy(strategy)
        try image(1, c.height, c.width).withUnsafeBufferPointer { try objective.setContent(image: $0) }
        try image(2, c.height, c.width).withUnsafeBufferPointer {
            try objective.addStyle(image: $0, height: c.height, width: c.width, weight: 1)
        }
        try image(3, 35, 41).withUnsafeBufferPointer { try objective.addStyle(image: $0, height: 35, width: 41, weight: 2) }
        return objective
    }

    func evaluate(_ objective: StyleTransferObjective, _ x: [Float]) throws -> (ObjectiveLosses, [Float]) {
        var gradient = [Float](repeating: .nan, count: x.count)
        let losses = try x.withUnsafeBufferPointer { xs in
            try gradient.withUnsafeMutableBufferPointer { try objective.evaluate(image: xs, gradient: $0) }
        }
        return (losses, gradient)
    }

    func assertStripsMatchWhole(_ c: Case, file: StaticString = #filePath, line: UInt = #line) throws {
        let x = image(4, c.height, c.width)
        let (wholeLosses, wholeGradient) = try evaluate(try objective(c, .whole), x)
        let (stripLosses, stripGradient) = try evaluate(try objective(c, .strips(splitAfter: c.split, rows: c.rows)), x)
        let label = "\(c.height)x\(c.width) split \(c.split) rows \(c.rows) content \(c.content) style \(c.style) "
            + "\(c.styleLoss) histogram \(c.histogram)"
        for (name, a, b) in [("content", stripLosses.content, wholeLosses.content), ("style", stripLosses.style, wholeLosses.style),
                             ("tv", stripLosses.tv, wholeLosses.tv)] {
            XCTAssertEqual(a, b, accuracy: Self.tolerance * max(abs(b), 1e-30), "\(name) loss, \(label)", file: file, line: line)
        }
        let scale = wholeGradient.map { abs(Double($0)) }.max()!
        assertClose(stripGradient.map { Double($0) / scale }, wholeGradient.map { Double($0) / scale },
                    tolerance: Self.tolerance, "gradient, \(label)", file: file, line: line)
    }

    func testEverySplitLayerWithTinyStripsOnOddSizes() throws {
        try assertStripsMatchWhole(Case(height: 40, width: 37, split: "pool1", rows: 4))
        try assertStripsMatchWhole(Case(height: 37, width: 40, split: "pool2", rows: 8))
        try assertStripsMatchWhole(Case(height: 64, width: 48, split: "pool3", rows: 16))
        try assertStripsMatchWhole(Case(height: 53, width: 33, split: "pool4", rows: 32))
    }

    func testOneStripAndStripsTallerThanTheImage() throws {
        try assertStripsMatchWhole(Case(height: 40, width: 37, split: "pool3", rows: 48))
        try assertStripsMatchWhole(Case(height: 40, width: 37, split: "pool2", rows: 400))
    }

    /// Content and style layers inside the stem, at the split layer and beyond it; all layers in the stem
    /// (a split deeper than every requested layer); a style layer only in the stem and content only deep.
    func testLayersOnEitherSideOfTheSplit() throws {
        try assertStripsMatchWhole(Case(height: 45, width: 38, split: "pool2", rows: 8,
                                        content: ["relu1_2", "pool2", "conv4_1"], style: ["conv1_1", "pool2", "relu3_2"]))
        try assertStripsMatchWhole(Case(height: 45, width: 38, split: "pool4", rows: 32,
                                        content: ["relu2_2"], style: ["relu1_1", "relu3_1"]))
        try assertStripsMatchWhole(Case(height: 33, width: 50, split: "pool3", rows: 16, content: ["relu5_1"], style: ["relu1_2"]))
    }

    /// The W2 loss's moments (Gram and means) summed over strips, on layers whose covariance has full rank
    /// (relu1_1, relu2_1: more positions than channels). Where it does not (relu3_1 here: 90 positions, 256
    /// channels; relu5_1: 4 and 512), M^-1/2 amplifies the strips' different float rounding of the moments
    /// to 1e-4..5e-4 of the gradient (measured): conditioning, not a different value. The histogram term
    /// gathers a stem layer whole (its ranks need every position); a histogram layer on either side of the split.
    func testOtherStyleLosses() throws {
        try assertStripsMatchWhole(Case(height: 40, width: 37, split: "pool2", rows: 8,
                                        style: ["relu1_1", "relu2_1"], styleLoss: .wasserstein2))
        try assertStripsMatchWhole(Case(height: 45, width: 38, split: "pool2", rows: 8, styleLoss: .gramAndHistogram,
                                        histogram: ["relu1_1", "relu4_1"]))
    }

    /// The halos of a pool3 split worked by hand (see `StripGeometry`): contamination after conv3_4 is
    /// 6 rows at factor 4 (24 px), reach 2·1 + 2·2 + 4·4 = 22 px; backward 22 + (3 + 1)·8 − 1 = 53; both
    /// rounded up to the alignment 4·4 = 16 (Winograd tiles of conv3_x).
    func testGeometryOfAPool3Split() throws {
        let geometry = StripGeometry(layers: Self.network.layers, stemEnd: Self.network.layerIndex("pool3")!, rows: 16, height: 64)
        XCTAssertEqual(geometry.alignment, 16)
        XCTAssertEqual(geometry.forwardHalo, 32)
        XCTAssertEqual(geometry.backwardHalo, 64)
        XCTAssertEqual(geometry.strips, [0..<16, 16..<32, 32..<48, 48..<64])
        XCTAssertEqual(geometry.window(of: 32..<48, halo: 32), 0..<64)
        XCTAssertEqual(geometry.window(of: 48..<64, halo: 8), 40..<64)
    }

    func testStrategyValidation() throws {
        let o = try StyleTransferObjective(network: Self.network, height: 32, width: 32, contentLayers: [("relu4_2", 1)],
                                           styleLayers: [], contentWeight: 1, styleWeight: 0, tvWeight: 0, pooling: .max)
        XCTAssertThrowsError(try o.setStrategy(.strips(splitAfter: "relu3_1", rows: 8))) { error in
            guard case NSTError.invalidArgument(let m) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("pooling layer"), m)
        }
        XCTAssertThrowsError(try o.setStrategy(.strips(splitAfter: "pool9", rows: 8))) {
            XCTAssertEqual($0 as? NSTError, .unknownLayer("pool9"))
        }
        for rows in [0, -16, 8, 24] {
            XCTAssertThrowsError(try o.setStrategy(.strips(splitAfter: "pool3", rows: rows))) { error in
                guard case NSTError.invalidArgument(let m) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(m.contains("multiple of 16"), m)
            }
        }
        XCTAssertEqual(o.strategy, .whole)
        try o.setStrategy(.strips(splitAfter: "pool3", rows: 16))
        XCTAssertEqual(o.strategy, .strips(splitAfter: "pool3", rows: 16))
    }
}
