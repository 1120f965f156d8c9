import XCTest
@testable import NSTEngine

/// Metadata of a valid Caffe-lineage (Keras) weights file.
let caffeMetadata = [
    "swiftnst.format": "1", "architecture": "vgg16", "channel_order": "BGR", "input_scale": "255",
    "mean": "103.939,116.779,123.68", "std": "1,1,1", "source": "test",
]

/// Entries for every conv layer of `architecture`, from `weights` or a fixed pattern of spread 0.01
/// (weights a trained VGG could have: constant ones are refused).
func vggEntries(_ architecture: VGGArchitecture,
                weights: [String: (weight: [Float], bias: [Float])]? = nil) -> [SafeTensorsFile.Entry] {
    architecture.convolutions.flatMap { conv -> [SafeTensorsFile.Entry] in
        let layer = weights?[conv.name]
        return [
            .init(name: "\(conv.name).weight", shape: [conv.outChannels, conv.inChannels, 3, 3],
                  values: layer?.weight ?? (0..<(conv.outChannels * conv.inChannels * 9)).map { Float($0 % 5 - 2) * 0.007 }),
            .init(name: "\(conv.name).bias", shape: [conv.outChannels],
                  values: layer?.bias ?? [Float](repeating: 0.1, count: conv.outChannels)),
        ]
    }
}

final class ModelWeightsTests: XCTestCase {
    /// Writes a VGG-16 file after letting `edit` change its entries and metadata, and loads it.
    private func load(edit: (inout [SafeTensorsFile.Entry], inout [String: String]) -> Void = { _, _ in }) throws -> ModelWeights {
        var entries = vggEntries(.vgg16)
        var metadata = caffeMetadata
        edit(&entries, &metadata)
        return try ModelWeights(contentsOf: writeTemporaryFile(SafeTensorsFile.serialize(entries, metadata: metadata), self))
    }

    func testValidFileLoadsWithItsConvention() throws {
        let weights = try load()
        XCTAssertEqual(weights.architecture, .vgg16)
        XCTAssertEqual(weights.channelOrder, .bgr)
        XCTAssertEqual(weights.inputScale, 255)
        XCTAssertEqual(weights.mean, [103.939, 116.779, 123.68])
        XCTAssertEqual(weights.std, [1, 1, 1])
        XCTAssertEqual(weights.source, "test")
        XCTAssertEqual(Set(weights.layers.keys), Set(VGGArchitecture.vgg16.convolutions.map(\.name)))
        XCTAssertEqual(weights.layers["conv3_1"]?.weight.count, 256 * 128 * 9)
        XCTAssertEqual(weights.layers["conv3_1"]?.bias.first, 0.1)
        XCTAssertEqual(try weights.makeNetwork().layerNames, VGGArchitecture.vgg16.layerNames)
    }

    func testMetadataProblemsAreNamed() throws {
        let cases: [(String, String?, String)] = [
            ("swiftnst.format", "2", "'swiftnst.format' is '2'"),
            ("swiftnst.format", nil, "missing metadata 'swiftnst.format'"),
            ("architecture", "vgg11", "'architecture' is 'vgg11'"),
            ("channel_order", "rgb", "'channel_order' is 'rgb'"),
            ("input_scale", "nan", "'input_scale'"),
            ("input_scale", "-1", "'input_scale'"),
            ("input_scale", "1e30", "'input_scale'"),
            ("input_scale", "2", "'input_scale'"),
            ("mean", "1,2", "'mean'"),
            ("mean", "1,2,inf", "'mean'"),
            ("std", "1,0,1", "'std'"),
            // absurd values are the file's fault, not an "objective is not finite" later
            ("std", "1,1e30,1", "'std'"),
            ("std", "1e-30,1,1", "'std'"),
            ("std", "1,1,nan", "'std'"),
            ("mean", "1e30,116.779,123.68", "'mean'"),
            ("mean", "-5,116.779,123.68", "'mean'"),
            ("mean", "nan,1,1", "'mean'"),
            ("source", nil, "missing metadata 'source'"),
        ]
        for (key, value, fragment) in cases {
            assertThrowsNST(NSTError.weightsFormat, containing: [fragment]) {
                _ = try load { _, metadata in metadata[key] = value }
            }
        }
    }

    func testTorchvisionConventionIsInsideTheLimits() throws {
        let weights = try load { _, metadata in
            metadata.merge(["channel_order": "RGB", "input_scale": "1", "mean": "0.485,0.456,0.406",
                            "std": "0.229,0.224,0.225"]) { $1 }
        }
        XCTAssertEqual(weights.std, [0.229, 0.224, 0.225])
    }

    /// Weights no training produces: the losses would be 0 from the first step.
    func testDegenerateLayersAreRefusedByName() throws {
        for value: Float in [0, 0.01] {  // all zero, constant
            assertThrowsNST(NSTError.weightsFormat, containing: ["'conv3_2.weight'", "standard deviation", "not trained VGG"]) {
                _ = try load { entries, _ in
                    let i = entries.firstIndex { $0.name == "conv3_2.weight" }!
                    entries[i].values = .init(repeating: value, count: entries[i].values.count)
                }
            }
        }
        assertThrowsNST(NSTError.weightsFormat, containing: ["'conv1_1.weight'", "standard deviation"]) {
            _ = try load { entries, _ in entries[0].values = entries[0].values.map { $0 * 1e-3 } }  // spread 1e-5
        }
    }

    func testTensorProblemsAreNamed() throws {
        assertThrowsNST(NSTError.weightsFormat, containing: ["missing tensor 'conv5_3.bias'"]) {
            _ = try load { entries, _ in entries.removeAll { $0.name == "conv5_3.bias" } }
        }
        assertThrowsNST(NSTError.weightsFormat, containing: ["unexpected tensor 'fc6.weight'"]) {
            _ = try load { entries, _ in entries.append(.init(name: "fc6.weight", shape: [1], values: [0])) }
        }
        // A VGG-19 layer in a file that says vgg16.
        assertThrowsNST(NSTError.weightsFormat, containing: ["unexpected tensor 'conv3_4.bias'"]) {
            _ = try load { entries, _ in entries.append(.init(name: "conv3_4.bias", shape: [256], values: .init(repeating: 0, count: 256))) }
        }
        assertThrowsNST(NSTError.weightsFormat, containing: ["'conv1_1.weight' has shape [64, 3, 9]"]) {
            _ = try load { entries, _ in entries[0].shape = [64, 3, 9] }
        }
        assertThrowsNST(NSTError.weightsFormat, containing: ["'conv2_1.bias'", "non-finite", "element 5"]) {
            _ = try load { entries, _ in
                let i = entries.firstIndex { $0.name == "conv2_1.bias" }!
                entries[i].values[5] = .nan
            }
        }
        assertThrowsNST(NSTError.weightsFormat, containing: ["'conv1_2.weight'", "non-finite"]) {
            _ = try load { entries, _ in
                let i = entries.firstIndex { $0.name == "conv1_2.weight" }!
                entries[i].values[100] = -.infinity
            }
        }
    }
}
