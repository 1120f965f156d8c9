import XCTest
@testable import NSTEngine

/// The Coursera convention: the objective's terms are the tutorial's costs (`TutorialCosts`, computed
/// independently from the activations) and its gradient is right.
final class ObjectiveConventionTests: XCTestCase {
    static var network: FeatureNetwork { StyleTransferObjectiveTests.network }
    static let (height, width) = (6, 5)
    static let styleLayers: [(name: String, weight: Float)] = [("relu1_1", 0.2), ("relu2_1", 0.5)]

    func makeObjective(_ convention: ObjectiveConvention, tvWeight: Float = 0) throws -> StyleTransferObjective {
        try StyleTransferObjective(network: Self.network, height: Self.height, width: Self.width,
                                   contentLayers: [("relu2_1", 1)], styleLayers: Self.styleLayers,
                                   contentWeight: 10, styleWeight: 40, tvWeight: tvWeight, pooling: .average,
                                   convention: convention)
    }

    func image(_ seed: UInt64, height: Int = height, width: Int = width) -> [Float] {
        randomFloats(3 * height * width, in: 0.1...1, seed: seed)
    }

    /// J = α J_content + β Σ λ_l J_style^[l] with the tutorial's own cost functions on the activations,
    /// for a style image of the generated image's size (the tutorial's setting).
    func testCourseraTermsAreTheTutorialCosts() throws {
        let objective = try makeObjective(.coursera)
        let (c, s, x) = (image(1), image(2), image(3))
        try c.withUnsafeBufferPointer { try objective.setContent(image: $0) }
        try s.withUnsafeBufferPointer { try objective.addStyle(image: $0, height: Self.height, width: Self.width, weight: 1) }
        let losses = try objective.evaluate(image: Tensor(channels: 3, height: Self.height, width: Self.width, storage: x)).losses

        func cost(_ layer: String, _ a: [Float], _ b: [Float], _ f: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>, Int, Int, Int) throws -> Double) throws -> Double {
            let (ta, tb) = (try StyleTransferObjectiveTests.activation(layer, of: a), try StyleTransferObjectiveTests.activation(layer, of: b))
            return try ta.storage.withUnsafeBufferPointer { pa in
                try tb.storage.withUnsafeBufferPointer { pb in try f(pa, pb, ta.channels, ta.height, ta.width) }
            }
        }
        let content = try 10 * cost("relu2_1", c, x) {
            try TutorialCosts.contentCost(content: $0, generated: $1, channels: $2, height: $3, width: $4)
        }
        let style = try Self.styleLayers.reduce(0.0) { sum, layer in
            try sum + 40 * Double(layer.weight) * cost(layer.name, s, x) {
                try TutorialCosts.layerStyleCost(style: $0, generated: $1, channels: $2, height: $3, width: $4)
            }
        }
        // Float32 activations and Gram matrices reached by two different paths (G/N − T in the objective,
        // G_S − G_G in double here): measured agreement ~1e-7; 1e-5 as the objective's own composition test.
        XCTAssertEqual(losses.content, content, accuracy: 1e-5 * content)
        XCTAssertEqual(losses.style, style, accuracy: 1e-5 * style)
        XCTAssertEqual(losses.tv, 0)
        XCTAssertGreaterThan(content, 0)
        XCTAssertGreaterThan(style, 0)
    }

    /// Central differences of the Coursera objective (TV on, two style images of other sizes blended).
    func testCourseraGradientMatchesFiniteDifferences() throws {
        let objective = try makeObjective(.coursera, tvWeight: 1e-3)
        try image(4).withUnsafeBufferPointer { try objective.setContent(image: $0) }
        try image(5, height: 9, width: 8).withUnsafeBufferPointer { try objective.addStyle(image: $0, height: 9, width: 8, weight: 1) }
        try image(6, height: 4, width: 4).withUnsafeBufferPointer { try objective.addStyle(image: $0, height: 4, width: 4, weight: 3) }
        let x = image(7)
        let (_, gradient) = try objective.evaluate(image: Tensor(channels: 3, height: Self.height, width: Self.width, storage: x))
        let numeric = try centralDifferences(at: x, h: 1e-3) { v in
            try v.withUnsafeBufferPointer { try objective.evaluate(image: $0, gradient: nil).total }
        }
        // As the neural-style objective's check: the objective is a smooth polynomial here, and 2e-3 of the
        // largest entry leaves room for the float32 losses the differences are taken of.
        assertClose(gradient, numeric, tolerance: 2e-3)
    }

    /// The factors follow from the two normalisations: 1/4 on content, C²/4 on each style layer.
    func testCourseraScalesOfTheNeuralStyleTerms() {
        XCTAssertEqual(ObjectiveConvention.coursera.contentScale(channels: 64, positions: 30), 0.25)
        XCTAssertEqual(ObjectiveConvention.coursera.styleScale(channels: 64, positions: 30), 1024)
        XCTAssertEqual(ObjectiveConvention.neuralStyle.contentScale(channels: 64, positions: 30), 1)
        XCTAssertEqual(ObjectiveConvention.neuralStyle.styleScale(channels: 64, positions: 30), 1)
    }

    /// The preview anchor's objective (the same objective at a smaller size) keeps the convention.
    func testResizedObjectiveKeepsTheConvention() throws {
        XCTAssertEqual(try makeObjective(.coursera).resized(height: 4, width: 4).convention, .coursera)
    }

    /// With masks and regions (Gatys 2017) each term is the masked neural-style term times the
    /// convention's factor of its layer: 1/4 on content, C²/4 on style (one layer, so the totals show it).
    func testCourseraScalesEachMaskedTerm() throws {
        let pixels = Self.height * Self.width
        let left: [Float] = (0..<pixels).map { $0 % Self.width < 3 ? 1 : 0 }
        func masked(_ convention: ObjectiveConvention) throws -> StyleTransferObjective {
            let objective = try StyleTransferObjective(
                network: Self.network, height: Self.height, width: Self.width, contentLayers: [("relu2_1", 1)],
                styleLayers: [("relu2_1", 0.5)], contentWeight: 10, styleWeight: 40, tvWeight: 0, pooling: .average,
                convention: convention)
            try objective.setMasks(content: randomFloats(pixels, in: 0...1, seed: 8),
                                   style: randomFloats(pixels, in: 0.2...1, seed: 9))
            try image(1).withUnsafeBufferPointer { try objective.setContent(image: $0) }
            try image(2, height: 9, width: 8).withUnsafeBufferPointer {
                try objective.addStyle(image: $0, height: 9, width: 8, weight: 1, region: left)
            }
            try image(3).withUnsafeBufferPointer {
                try objective.addStyle(image: $0, height: Self.height, width: Self.width, weight: 2)
            }
            return objective
        }
        let x = image(4)
        let (coursera, neuralStyle) = (try masked(.coursera), try masked(.neuralStyle))
        let losses = try coursera.evaluate(image: Tensor(channels: 3, height: Self.height, width: Self.width, storage: x)).losses
        let reference = try neuralStyle.evaluate(image: Tensor(channels: 3, height: Self.height, width: Self.width, storage: x)).losses
        let channels = Double(Self.network.layers[Self.network.layerIndex("relu2_1")!].channels)
        // The same float32 terms times an exactly representable factor: agreement to rounding.
        XCTAssertEqual(losses.content, reference.content / 4, accuracy: 1e-6 * losses.content)
        XCTAssertEqual(losses.style, reference.style * channels * channels / 4, accuracy: 1e-6 * losses.style)
        XCTAssertGreaterThan(reference.content, 0)
        XCTAssertGreaterThan(reference.style, 0)
        let (_, gradient) = try coursera.evaluate(image: Tensor(channels: 3, height: Self.height, width: Self.width, storage: x))
        let numeric = try centralDifferences(at: x, h: 1e-3) { v in
            try v.withUnsafeBufferPointer { try coursera.evaluate(image: $0, gradient: nil).total }
        }
        assertClose(gradient, numeric, tolerance: 2e-3)
    }

    /// Content targets are carried over (a rebuilt objective, the preview anchor) only to an objective of
    /// the same convention: their weights hold the convention's factor. Style targets (Gram matrices)
    /// carry over either way and get the receiving objective's factors.
    func testCarriedTargetsFollowTheReceivingConvention() throws {
        let source = try makeObjective(.neuralStyle)
        try image(1).withUnsafeBufferPointer { try source.setContent(image: $0) }
        try image(2).withUnsafeBufferPointer { try source.addStyle(image: $0, height: Self.height, width: Self.width, weight: 1) }
        let receiver = try makeObjective(.coursera)
        try receiver.adoptTargets(from: source, content: true, style: true)
        XCTAssertTrue(receiver.contentLosses.isEmpty)
        let same = try makeObjective(.neuralStyle)
        try same.adoptTargets(from: source, content: true, style: true)
        XCTAssertEqual(same.contentLosses.count, 1)
        try image(1).withUnsafeBufferPointer { try receiver.setContent(image: $0) }
        let x = try Tensor(channels: 3, height: Self.height, width: Self.width, storage: image(3))
        let (style, reference) = (try receiver.evaluate(image: x).losses.style, try source.evaluate(image: x).losses.style)
        let expected = try Self.styleLayers.reduce(0.0) { sum, layer in
            let channels = Double(Self.network.layers[Self.network.layerIndex(layer.name)!].channels)
            let alone = try StyleTransferObjective(
                network: Self.network, height: Self.height, width: Self.width, contentLayers: [], styleLayers: [layer],
                contentWeight: 10, styleWeight: 40, tvWeight: 0, pooling: .average)
            try image(2).withUnsafeBufferPointer { try alone.addStyle(image: $0, height: Self.height, width: Self.width, weight: 1) }
            return sum + channels * channels / 4 * (try alone.evaluate(image: x).losses.style)
        }
        XCTAssertEqual(style, expected, accuracy: 1e-5 * expected)
        XCTAssertNotEqual(style, reference, accuracy: 1e-3 * reference)
    }
}
