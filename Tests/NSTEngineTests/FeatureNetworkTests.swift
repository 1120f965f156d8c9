import XCTest
@testable import NSTEngine

final class FeatureNetworkTests: XCTestCase {
    static let network = try! FeatureNetwork(architecture: .vgg19, weights: SharedWeights.vgg19)

    func forward(_ network: FeatureNetwork, _ image: [Float], _ h: Int, _ w: Int, _ layers: [String],
                 pooling: Pooling = .max, evaluation: NetworkEvaluation? = nil) throws -> [Tensor] {
        let evaluation = evaluation ?? NetworkEvaluation(network: network)
        let indices = layers.map { network.layerIndex($0)! }
        try image.withUnsafeBufferPointer {
            try network.forward(image: $0, height: h, width: w, requested: Set(indices), pooling: pooling, evaluation: evaluation)
        }
        return try indices.map { try evaluation.activation(layer: $0) }
    }

    func testNamesAndShapes() throws {
        let network = Self.network
        XCTAssertEqual(network.layerNames, VGGArchitecture.vgg19.layerNames)
        XCTAssertEqual(network.layerIndex("relu1_1"), 1)
        XCTAssertNil(network.layerIndex("relu9_1"))
        let shape = try network.outputShape(of: "relu4_2", height: 37, width: 64)
        XCTAssertTrue(shape == (512, 4, 8), "\(shape)")
        XCTAssertThrowsError(try network.outputShape(of: "pool5", height: 31, width: 64)) {
            guard case NSTError.shape = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try network.outputShape(of: "nope", height: 8, width: 8)) {
            XCTAssertEqual($0 as? NSTError, .unknownLayer("nope"))
        }

        let image = randomFloats(3 * 9 * 10, seed: 2)
        let outputs = try forward(network, image, 9, 10, ["conv1_1", "relu1_1", "pool1", "relu2_1"])
        XCTAssertEqual(outputs.map { [$0.channels, $0.height, $0.width] }, [[64, 9, 10], [64, 9, 10], [64, 4, 5], [128, 4, 5]])
        XCTAssertEqual(outputs[1].storage, outputs[0].storage.map { max($0, 0) }, "relu1_1 = ReLU(conv1_1)")
    }

    /// The fused conv+ReLU path (conv not requested) must equal an explicit reference built from
    /// the naive kernel, with and without the conv layers requested.
    func testForwardMatchesNaiveReferenceNetwork() throws {
        let weights = SharedWeights.vgg16
        let fast = try FeatureNetwork(architecture: .vgg16, weights: weights)
        let naive = try FeatureNetwork(architecture: .vgg16, weights: weights) {
            try NaiveConv3x3(weight: $0, bias: $1, inChannels: $2, outChannels: $3)
        }
        let image = randomFloats(3 * 8 * 6, seed: 3)
        for pooling in Pooling.allCases {
            let a = try forward(fast, image, 8, 6, ["relu1_2", "relu3_1"], pooling: pooling)
            let b = try forward(naive, image, 8, 6, ["conv1_2", "relu1_2", "conv3_1", "relu3_1"], pooling: pooling)
            assertClose(a[0].storage, b[1].storage, tolerance: 1e-4, "relu1_2 \(pooling)")
            assertClose(a[1].storage, b[3].storage, tolerance: 1e-4, "relu3_1 \(pooling)")
        }
    }

    /// Backward of L = Σ_l <r_l, F_l(x)> with gradients injected at several layers (one
    /// pre-activation, one twice) against central differences of L.
    func checkBackward(_ network: FeatureNetwork, image: [Float], height h: Int, width w: Int,
                       pooling: Pooling, step: Float, tolerance: Double, file: StaticString = #filePath, line: UInt = #line) throws {
        let layers = ["relu1_1", "conv2_1", "relu2_2", "relu2_2"]
        let evaluation = NetworkEvaluation(network: network)
        let shapes = try layers.map { try network.outputShape(of: $0, height: h, width: w) }
        let r = shapes.enumerated().map { randomFloats($1.channels * $1.height * $1.width, seed: 500 + UInt64($0)) }
        let scalar = { (x: [Float]) throws -> Double in
            let outputs = try self.forward(network, x, h, w, layers, pooling: pooling, evaluation: evaluation)
            return zip(r, outputs).reduce(0) { $0 + dot($1.0, $1.1.storage) }
        }
        _ = try scalar(image)
        var gradient = [Float](repeating: .nan, count: image.count)
        try withInjected(r, layers.map { network.layerIndex($0)! }) { injected in
            try gradient.withUnsafeMutableBufferPointer {
                try network.backward(injected: injected, evaluation: evaluation, gradImage: $0)
            }
        }
        let numeric = try centralDifferences(at: image, h: step, scalar)
        assertClose(gradient, numeric, tolerance: tolerance, "\(pooling)", file: file, line: line)
    }

    /// Positive weights and image keep every ReLU on, so with average pooling L is linear in x and
    /// central differences are exact up to float32 rounding: this pins down the routing of
    /// injected gradients through conv, ReLU and pooling layers.
    func testBackwardMatchesFiniteDifferencesInLinearRegime() throws {
        let network = try FeatureNetwork(architecture: .vgg19, weights: SharedWeights.vgg19Positive)
        try checkBackward(network, image: randomFloats(3 * 6 * 7, in: 0.1...1, seed: 4), height: 6, width: 7,
                          pooling: .average, step: 1e-2, tolerance: 1e-3)
    }

    /// With signed weights ReLUs and max windows switch; even a small step crosses a kink for a few
    /// coordinates (measured worst: 1.8% of the gradient's scale), so the tolerance is 3%.
    func testBackwardMatchesFiniteDifferencesWithKinks() throws {
        for pooling in Pooling.allCases {
            try checkBackward(Self.network, image: randomFloats(3 * 6 * 6, seed: 4), height: 6, width: 6,
                              pooling: pooling, step: 1e-3, tolerance: 3e-2)
        }
    }

    func testInvalidUseThrows() throws {
        let network = Self.network
        let evaluation = NetworkEvaluation(network: network)
        var gradient = [Float](repeating: 0, count: 3 * 4 * 4)
        XCTAssertThrowsError(try gradient.withUnsafeMutableBufferPointer {
            try network.backward(injected: [], evaluation: evaluation, gradImage: $0)
        }) { guard case NSTError.state = $0 else { return XCTFail("\($0)") } }

        let image = randomFloats(3 * 4 * 4, seed: 5)
        _ = try forward(network, image, 4, 4, ["relu1_1"], evaluation: evaluation)
        let unrequested = [Float](repeating: 1, count: 64 * 16)
        XCTAssertThrowsError(try withInjected([unrequested], [network.layerIndex("conv1_1")!]) { injected in
            try gradient.withUnsafeMutableBufferPointer { try network.backward(injected: injected, evaluation: evaluation, gradImage: $0) }
        }) { guard case NSTError.state = $0 else { return XCTFail("\($0)") } }
        XCTAssertThrowsError(try withInjected([[1]], [network.layerIndex("relu1_1")!]) { injected in
            try gradient.withUnsafeMutableBufferPointer { try network.backward(injected: injected, evaluation: evaluation, gradImage: $0) }
        }) { guard case NSTError.shape = $0 else { return XCTFail("\($0)") } }

        XCTAssertThrowsError(try forward(network, image, 4, 4, ["relu4_1"])) { guard case NSTError.shape = $0 else { return XCTFail("\($0)") } }
        XCTAssertThrowsError(try forward(network, [1, 2], 4, 4, ["relu1_1"])) { guard case NSTError.shape = $0 else { return XCTFail("\($0)") } }
        let other = NetworkEvaluation(network: try FeatureNetwork(architecture: .vgg16, weights: SharedWeights.vgg16))
        XCTAssertThrowsError(try forward(network, image, 4, 4, ["relu1_1"], evaluation: other))
        XCTAssertThrowsError(try image.withUnsafeBufferPointer {
            try network.forward(image: $0, height: 4, width: 4, requested: [], pooling: .max, evaluation: evaluation)
        })
    }

    func testWeightValidation() {
        let complete = SharedWeights.vgg16
        var weights = complete
        weights["conv3_3"] = nil
        XCTAssertThrowsError(try FeatureNetwork(architecture: .vgg16, weights: weights)) {
            XCTAssertEqual($0 as? NSTError, .weightsFormat("missing weights for layer 'conv3_3'"))
        }
        weights = complete
        weights["conv3_4"] = complete["conv3_3"]  // a VGG-19 layer: the file is for another network
        XCTAssertThrowsError(try FeatureNetwork(architecture: .vgg16, weights: weights)) {
            XCTAssertEqual($0 as? NSTError, .weightsFormat("unexpected layer 'conv3_4' for vgg16"))
        }
        weights = complete
        weights["conv1_1"]!.bias.removeLast()
        XCTAssertThrowsError(try FeatureNetwork(architecture: .vgg16, weights: weights)) {
            guard case NSTError.weightsFormat = $0 else { return XCTFail("\($0)") }
        }
        weights = complete
        weights["conv2_1"]!.weight[5] = .infinity
        XCTAssertThrowsError(try FeatureNetwork(architecture: .vgg16, weights: weights)) {
            XCTAssertEqual($0 as? NSTError, .weightsFormat("layer 'conv2_1' holds NaN or infinity"))
        }
    }
}

/// Lends each array as an (index, buffer) injection for `FeatureNetwork.backward`.
func withInjected<R>(_ arrays: [[Float]], _ layers: [Int],
                     _ body: ([(layer: Int, gradient: UnsafeBufferPointer<Float>)]) throws -> R) throws -> R {
    var pointers: [UnsafeMutableBufferPointer<Float>] = []
    defer { pointers.forEach { $0.deallocate() } }
    for array in arrays {
        let copy = UnsafeMutableBufferPointer<Float>.allocate(capacity: array.count)
        _ = copy.initialize(from: array)
        pointers.append(copy)
    }
    return try body(zip(layers, pointers).map { ($0, UnsafeBufferPointer($1)) })
}
