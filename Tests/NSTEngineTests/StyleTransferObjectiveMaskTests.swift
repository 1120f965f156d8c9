import XCTest
@testable import NSTEngine

/// The objective with spatial control: two styles on the two halves of the image (one with its own
/// mask), a content mask and the blended styles' mask, against the loss structs composed by hand and
/// against finite differences.
final class StyleTransferObjectiveMaskTests: XCTestCase {
    typealias Base = StyleTransferObjectiveTests
    let (height, width) = (StyleTransferObjectiveTests.height, StyleTransferObjectiveTests.width)
    var left: [Float] { (0..<(height * width)).map { $0 % width < 3 ? 1 : 0 } }
    var right: [Float] { left.map { 1 - $0 } }
    let styleMask = randomFloats(9 * 8, in: 0.2...1, seed: 21)
    let contentMask = randomFloats(StyleTransferObjectiveTests.height * StyleTransferObjectiveTests.width, in: 0...1, seed: 22)

    /// `StyleTransferObjectiveTests.makeObjective()`'s objective.
    func makeObjective(normalizeGradients: Bool = false) throws -> StyleTransferObjective {
        try StyleTransferObjective(
            network: Base.network, height: height, width: width, contentLayers: [("relu2_1", 1)],
            styleLayers: [("relu1_1", 1), ("relu2_1", 0.5)], contentWeight: 5, styleWeight: 100, tvWeight: 1e-3,
            pooling: .average, normalizeGradients: normalizeGradients)
    }

    func masked(normalizeGradients: Bool = false) throws -> StyleTransferObjective {
        let objective = try makeObjective(normalizeGradients: normalizeGradients)
        try objective.setMasks(content: contentMask, style: nil)
        try Base.image(1).withUnsafeBufferPointer { try objective.setContent(image: $0) }
        try Base.image(2, height: 9, width: 8).withUnsafeBufferPointer {
            try objective.addStyle(image: $0, height: 9, width: 8, weight: 1, mask: styleMask, region: left)
        }
        try Base.image(3, height: 4, width: 4).withUnsafeBufferPointer {
            try objective.addStyle(image: $0, height: 4, width: 4, weight: 3, region: right)
        }
        return objective
    }

    func testLossesMatchIndependentComposition() throws {
        let objective = try masked()
        let x = Base.image(4)
        let network = StyleTransferObjectiveTests.network
        let (losses, _) = try objective.evaluate(image: Tensor(channels: 3, height: height, width: width, storage: x))
        func layerMask(_ values: [Float], _ layer: String, height: Int, width: Int) throws -> LayerMask {
            let index = network.layerIndex(layer)!
            return try XCTUnwrap(SpatialMask(values: values, height: height, width: width, "mask").atLayers([index], of: network)[index])
        }
        let content = try ContentLoss(weight: 5, target: Base.activation("relu2_1", of: Base.image(1)).storage,
                                      mask: layerMask(contentMask, "relu2_1", height: height, width: width), normalizesGradient: false)
            .evaluate(features: Base.activation("relu2_1", of: x).storage).loss
        XCTAssertEqual(losses.content, content, accuracy: 1e-5 * content)
        var style = 0.0
        for (layer, layerWeight) in [("relu1_1", Float(1)), ("relu2_1", 0.5)] {
            let f = try Base.activation(layer, of: x)
            let styles: [(image: [Float], h: Int, w: Int, blend: Float, mask: [Float]?, region: [Float])] = [
                (Base.image(2, height: 9, width: 8), 9, 8, 1, styleMask, left), (Base.image(3, height: 4, width: 4), 4, 4, 3, nil, right)]
            for s in styles {
                let a = try Base.activation(layer, of: s.image, height: s.h, width: s.w)
                let weights = try s.mask.map { try layerMask($0, layer, height: s.h, width: s.w) }
                let target = a.storage.withUnsafeBufferPointer {
                    StyleLoss.normalizedGram(features: $0.baseAddress!, channels: a.channels, positions: a.height * a.width, region: weights)
                }
                style += try StyleLoss(weight: s.blend * 100 * layerWeight, channels: f.channels, target: target,
                                       region: layerMask(s.region, layer, height: height, width: width), normalizesGradient: false)
                    .evaluate(features: f).loss
            }
        }
        XCTAssertEqual(losses.style, style, accuracy: 1e-5 * style)
    }

    /// Positive weights and average pooling make the objective smooth: central differences (h 1e-3) agree
    /// to 2e-3 of the gradient's largest value, as for the unmasked objective.
    func testGradientMatchesFiniteDifferences() throws {
        let objective = try masked()
        let x = Base.image(5)
        let (_, gradient) = try objective.evaluate(image: Tensor(channels: 3, height: height, width: width, storage: x))
        let numeric = try centralDifferences(at: x, h: 1e-3) { v in
            try v.withUnsafeBufferPointer { try objective.evaluate(image: $0, gradient: nil).total }
        }
        assertClose(gradient, numeric, tolerance: 2e-3)
    }

    /// All-ones masks and regions give the unmasked objective's losses and gradient.
    func testAllOnesMasksAreNoMasks() throws {
        let ones = [Float](repeating: 1, count: height * width)
        let plain = try Base.configured(try makeObjective())
        let objective = try makeObjective()
        try objective.setMasks(content: ones, style: ones)
        try Base.image(1).withUnsafeBufferPointer { try objective.setContent(image: $0) }
        try Base.image(2, height: 9, width: 8).withUnsafeBufferPointer {
            try objective.addStyle(image: $0, height: 9, width: 8, weight: 1, mask: .init(repeating: 1, count: 72))
        }
        try Base.image(3, height: 4, width: 4).withUnsafeBufferPointer { try objective.addStyle(image: $0, height: 4, width: 4, weight: 3) }
        let x = try Tensor(channels: 3, height: height, width: width, storage: Base.image(6))
        let (expected, masked) = (try plain.evaluate(image: x), try objective.evaluate(image: x))
        XCTAssertEqual(masked.losses.total, expected.losses.total, accuracy: 1e-5 * expected.losses.total)
        assertClose(masked.gradient, expected.gradient, tolerance: 1e-5)
    }

    func testMasksAndNormalizedGradientsRefuseStrips() throws {
        let x = try Tensor(channels: 3, height: height, width: width, storage: Base.image(7))
        let normalized = try StyleTransferObjective(
            network: StyleTransferObjectiveTests.network, height: height, width: width, contentLayers: [("relu2_1", 1)],
            styleLayers: [], contentWeight: 5, styleWeight: 100, tvWeight: 0, pooling: .average, normalizeGradients: true)
        try Base.image(1).withUnsafeBufferPointer { try normalized.setContent(image: $0) }
        _ = try normalized.evaluate(image: x)  // whole-image: fine
        for objective in [try masked(), normalized] {
            try objective.setStrategy(.strips(splitAfter: "pool1", rows: 4))
            XCTAssertThrowsError(try objective.evaluate(image: x)) {
                XCTAssertEqual($0 as? NSTError, .state("spatial masks and gradient normalisation need the whole-image evaluation, not strips"))
            }
        }
    }

    func testStyleMaskCoveringNothingIsRefused() throws {
        let objective = try makeObjective()
        XCTAssertThrowsError(try Base.image(2, height: 9, width: 8).withUnsafeBufferPointer {
            try objective.addStyle(image: $0, height: 9, width: 8, weight: 1, mask: .init(repeating: 0, count: 72))
        }) { XCTAssertEqual($0 as? NSTError, .invalidArgument("the style image mask covers nothing at layer 'relu1_1'")) }
        XCTAssertEqual(objective.styleImageCount, 0)
    }
}
