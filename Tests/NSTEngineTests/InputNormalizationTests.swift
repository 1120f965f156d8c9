import XCTest
@testable import NSTEngine

final class InputNormalizationTests: XCTestCase {
    static let torchvisionMean: [Float] = [0.485, 0.456, 0.406]
    static let torchvisionStd: [Float] = [0.229, 0.224, 0.225]

    /// Writes VGG-16 `layers` with the given convention and loads the file as it is.
    private func load(_ layers: [String: (weight: [Float], bias: [Float])]?, scale: String, mean: String,
                      std: String, order: String) throws -> ModelWeights {
        var metadata = caffeMetadata
        metadata["input_scale"] = scale
        metadata["mean"] = mean
        metadata["std"] = std
        metadata["channel_order"] = order
        let bytes = SafeTensorsFile.serialize(vggEntries(.vgg16, weights: layers), metadata: metadata)
        return try ModelWeights(contentsOf: writeTemporaryFile(bytes, self))
    }

    private func torchvisionWeights() throws -> ModelWeights {
        try load(SharedWeights.vgg16, scale: "1", mean: "0.485,0.456,0.406", std: "0.229,0.224,0.225", order: "RGB")
    }

    func testCaffeWeightsAreLoadedBitForBit() throws {
        XCTAssertTrue(InputNormalization(inputScale: 255, std: [1, 1, 1]).isIdentity)
        let file = try load(SharedWeights.vgg16, scale: "255", mean: "103.939,116.779,123.68", std: "1,1,1", order: "BGR")
        let loaded = try file.normalizedToCaffeRange()
        XCTAssertEqual([loaded.inputScale] + loaded.mean + loaded.std, [file.inputScale] + file.mean + file.std)
        XCTAssertEqual(Set(loaded.layers.keys), Set(file.layers.keys))
        for (name, layer) in file.layers {
            XCTAssertEqual(loaded.layers[name]?.weight.map(\.bitPattern), layer.weight.map(\.bitPattern), name)
            XCTAssertEqual(loaded.layers[name]?.bias.map(\.bitPattern), layer.bias.map(\.bitPattern), name)
        }
    }

    func testTorchvisionFactorsAre255TimesTheStd() {
        let normalization = InputNormalization(inputScale: 1, std: Self.torchvisionStd)
        assertClose(normalization.inputFactors, [58.395, 57.12, 57.375], tolerance: 1e-6)
        // The geometric mean, computed another way: the cube root of the product.
        XCTAssertEqual(Double(normalization.activationScale), cbrt(58.395 * 57.12 * 57.375), accuracy: 1e-4)
        XCTAssertFalse(normalization.isIdentity)
        // A std-normalised file at scale 255 reads another range too.
        XCTAssertEqual(InputNormalization(inputScale: 255, std: [58.395, 57.12, 57.375]).inputFactors, [58.395, 57.12, 57.375])
    }

    func testTorchvisionWeightsReadTheCaffeRange() throws {
        let loaded = try torchvisionWeights().normalizedToCaffeRange()
        XCTAssertEqual(loaded.inputScale, 255)
        assertClose(loaded.mean, Self.torchvisionMean.map { 255 * $0 }, tolerance: 1e-6)
        XCTAssertEqual(loaded.std, [1, 1, 1])
        XCTAssertEqual(loaded.channelOrder, .rgb)
    }

    /// A file value that is finite but overflows once scaled is refused as the file's fault, naming the
    /// layer: the loaded network holds only finite values (nst_model_load_from_file's promise).
    func testValuesOverflowingTheScaleAreRefused() throws {
        var layers = SharedWeights.vgg16
        layers["conv2_1"]!.bias[0] = 1e37  // times the activation scale 57.6: beyond Float's 3.4e38
        let file = try load(layers, scale: "1", mean: "0.485,0.456,0.406", std: "0.229,0.224,0.225", order: "RGB")
        XCTAssertThrowsError(try file.normalizedToCaffeRange()) {
            XCTAssertEqual($0 as? NSTError, .weightsFormat(
                "conv2_1's values overflow Float when rescaled to the Caffe input range (activation scale \(file.inputNormalization.activationScale))"))
        }
    }

    /// The normalised network on the Caffe-range image is the file's network on its own input, times
    /// the activation scale, at every depth and with both poolings.
    func testNormalisedNetworkIsTheScaledNetwork() throws {
        let file = try torchvisionWeights()
        let loaded = try file.normalizedToCaffeRange()
        let scale = file.inputNormalization.activationScale
        let (height, width) = (18, 20)
        let rgb = randomFloats(3 * height * width, in: 0...1, seed: 5)
        let plane = height * width
        // The same picture in each input space: (rgb - mean) / std, and 255 * rgb - 255 * mean.
        let fileInput = rgb.indices.map { (rgb[$0] - Self.torchvisionMean[$0 / plane]) / Self.torchvisionStd[$0 / plane] }
        let caffeInput = rgb.indices.map { 255 * rgb[$0] - loaded.mean[$0 / plane] }
        let layers = ["conv1_1", "relu1_1", "relu2_1", "relu3_1", "relu4_2", "pool4"]
        for pooling in Pooling.allCases {
            let expected = try activations(file.makeNetwork(), fileInput, height, width, layers, pooling)
            let actual = try activations(loaded.makeNetwork(), caffeInput, height, width, layers, pooling)
            for (index, layer) in layers.enumerated() {
                let scaled = expected[index].map { $0 * scale }
                assertClose(actual[index], scaled, tolerance: 1e-4, "\(layer) \(pooling)")
                let spread = scaled.map { abs($0) }.max() ?? 0
                XCTAssertGreaterThan(spread, 1, "\(layer) \(pooling): activations of a useful size")
            }
        }
    }

    private func activations(_ network: FeatureNetwork, _ image: [Float], _ height: Int, _ width: Int,
                             _ layers: [String], _ pooling: Pooling) throws -> [[Float]] {
        let evaluation = NetworkEvaluation(network: network)
        let indices = layers.map { network.layerIndex($0)! }
        try image.withUnsafeBufferPointer {
            try network.forward(image: $0, height: height, width: width, requested: Set(indices), pooling: pooling,
                                evaluation: evaluation)
        }
        return try indices.map { try evaluation.activation(layer: $0).storage }
    }
}
