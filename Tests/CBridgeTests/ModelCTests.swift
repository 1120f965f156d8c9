import CBridge
import CSwiftNST
import Foundation
import NSTEngine
import XCTest

final class ModelCTests: XCTestCase {
    func testLoadFailures() throws {
        var model: OpaquePointer?
        assertStatus(CBridge.nst_model_load_from_file(nil, &model), NST_ERR_NULL_POINTER, "path is NULL")
        assertStatus(CBridge.nst_model_load_from_file("/x", nil), NST_ERR_NULL_POINTER, "model_out is NULL")
        assertStatus(CBridge.nst_model_load_from_file("/nonexistent/w.safetensors", &model), NST_ERR_IO,
                     "nst_model_load_from_file", "/nonexistent/w.safetensors")
        let garbage = FileManager.default.temporaryDirectory.appendingPathComponent("swiftnst-garbage-\(UUID()).safetensors")
        try Data("this is not a weights file".utf8).write(to: garbage)
        defer { try? FileManager.default.removeItem(at: garbage) }
        assertStatus(CBridge.nst_model_load_from_file(garbage.path, &model), NST_ERR_WEIGHTS_FORMAT, garbage.path, "header length")
        XCTAssertNil(model, "out-pointer untouched on error")
    }

    func testInfoNamesAndShapes() throws {
        let model = try loadTestModel()
        defer { CBridge.nst_model_free(model) }
        var info = nst_model_info()
        XCTAssertEqual(CBridge.nst_model_get_info(model, &info), NST_OK)
        XCTAssertEqual(info.architecture, NST_ARCH_VGG16)
        XCTAssertEqual(info.n_layers, 31)
        XCTAssertEqual(info.channel_order, NST_CHANNELS_RGB)
        // The file's torchvision convention (RGB, 0..1, mean and std) is loaded as the Caffe range.
        XCTAssertEqual(info.input_scale, 255)
        XCTAssertEqual(info.mean.0, 255 * 0.485, accuracy: 1e-4)
        XCTAssertEqual(info.mean.1, 255 * 0.456, accuracy: 1e-4)
        XCTAssertEqual(info.mean.2, 255 * 0.406, accuracy: 1e-4)
        XCTAssertEqual([info.std.0, info.std.1, info.std.2], [1, 1, 1])
        assertStatus(CBridge.nst_model_get_info(model, nil), NST_ERR_NULL_POINTER, "info_out")

        var name: UnsafePointer<CChar>?
        XCTAssertEqual(CBridge.nst_model_layer_name(model, 0, &name), NST_OK)
        XCTAssertEqual(name.map { String(cString: $0) }, "conv1_1")
        XCTAssertEqual(CBridge.nst_model_layer_name(model, 30, &name), NST_OK)
        XCTAssertEqual(name.map { String(cString: $0) }, "pool5")
        assertStatus(CBridge.nst_model_layer_name(model, 31, &name), NST_ERR_INVALID_ARGUMENT, "0...30", "31")
        assertStatus(CBridge.nst_model_layer_name(model, -1, &name), NST_ERR_INVALID_ARGUMENT)
        assertStatus(CBridge.nst_model_layer_name(model, 0, nil), NST_ERR_NULL_POINTER, "name_out")

        var shape: [Int64] = [0, 0, 0]
        XCTAssertEqual(CBridge.nst_model_layer_shape(model, "relu2_1", 32, 30, &shape), NST_OK)
        XCTAssertEqual(shape, [128, 16, 15])
        assertStatus(CBridge.nst_model_layer_shape(model, "relu9_1", 32, 32, &shape), NST_ERR_UNKNOWN_LAYER, "relu9_1")
        assertStatus(CBridge.nst_model_layer_shape(model, "pool5", 8, 8, &shape), NST_ERR_SHAPE)
        assertStatus(CBridge.nst_model_layer_shape(model, "pool1", 0, 8, &shape), NST_ERR_SHAPE, "height")
        assertStatus(CBridge.nst_model_layer_shape(model, "pool1", 8, Int64(NST_MAX_IMAGE_SIDE) + 1, &shape), NST_ERR_SHAPE, "width")
        assertStatus(CBridge.nst_model_layer_shape(model, nil, 8, 8, &shape), NST_ERR_NULL_POINTER, "layer")
        assertStatus(CBridge.nst_model_layer_shape(model, String(repeating: "x", count: 64), 8, 8, &shape),
                     NST_ERR_INVALID_ARGUMENT, "longer than 63")
    }

    func testForwardMatchesEngineAndChecksEveryArgument() throws {
        let model = try loadTestModel()
        defer { CBridge.nst_model_free(model) }
        let (h, w) = (12, 10)
        let image = (0..<(3 * h * w)).map { Float(($0 * 7) % 13) / 13 - 0.5 }
        var relu11 = [Float](repeating: .nan, count: 64 * h * w)
        var pool2 = [Float](repeating: .nan, count: 128 * 3 * 2)
        func forward(_ layers: [String], counts: [Int64], imageCount: Int64? = nil, pooling: Int32 = NST_POOLING_MAX,
                     height: Int64 = Int64(h), nullOutputs: Bool = false) -> nst_status {
            withCStrings(layers) { names in
                relu11.withUnsafeMutableBufferPointer { a in
                    pool2.withUnsafeMutableBufferPointer { b in
                        let outputs = [a.baseAddress, b.baseAddress]
                        return CBridge.nst_model_forward(model, image, imageCount ?? Int64(image.count), height, Int64(w), pooling,
                                                         names, Int32(layers.count), nullOutputs ? nil : outputs, counts)
                    }
                }
            }
        }
        XCTAssertEqual(forward(["relu1_1", "pool2"], counts: [Int64(64 * h * w), 128 * 6]), NST_OK, lastError())

        let weights = try ModelWeights(contentsOf: TestWeightsFile.path).normalizedToCaffeRange()
        let network = try weights.makeNetwork()
        let evaluation = NetworkEvaluation(network: network)
        try image.withUnsafeBufferPointer {
            try network.forward(image: $0, height: h, width: w, requested: [1, 9], pooling: .max, evaluation: evaluation)
        }
        XCTAssertEqual(relu11, try evaluation.withActivation(layer: 1) { Array($0) })
        XCTAssertEqual(pool2, try evaluation.withActivation(layer: 9) { Array($0) })

        let before = pool2
        assertStatus(forward(["relu1_1", "pool2"], counts: [Int64(64 * h * w), 5]), NST_ERR_SHAPE, "outputs[1]", "pool2")
        assertStatus(forward(["relu1_1", "pool2"], counts: [1, 128 * 6], imageCount: 7), NST_ERR_SHAPE, "image")
        assertStatus(forward(["relu1_1", "nope"], counts: [Int64(64 * h * w), 128 * 6]), NST_ERR_UNKNOWN_LAYER, "nope")
        assertStatus(forward(["relu1_1"], counts: [Int64(64 * h * w)], pooling: 9), NST_ERR_INVALID_ARGUMENT, "pooling")
        assertStatus(forward([], counts: []), NST_ERR_INVALID_ARGUMENT, "number of layers")
        assertStatus(forward(Array(repeating: "relu1_1", count: 32), counts: []), NST_ERR_INVALID_ARGUMENT, "1...31")
        assertStatus(forward(["relu1_1"], counts: [Int64(64 * h * w)], nullOutputs: true), NST_ERR_NULL_POINTER, "outputs")
        assertStatus(forward(["pool5"], counts: [0], height: 12), NST_ERR_SHAPE)
        XCTAssertEqual(pool2, before, "outputs untouched on error")
        assertStatus(CBridge.nst_model_forward(model, nil, 3, 1, 1, NST_POOLING_MAX, nil, 1, nil, nil), NST_ERR_NULL_POINTER, "image")
    }

    func testDeadForeignAndWrongKindHandles() throws {
        let model = try loadTestModel()
        var info = nst_model_info()
        var params = CBridge.nst_session_default_params()
        params.height = 32
        params.width = 32
        var session: OpaquePointer?
        XCTAssertEqual(CBridge.nst_session_init(model, &params, &session), NST_OK, lastError())
        // A session handle is not a model and vice versa.
        assertStatus(CBridge.nst_model_get_info(session, &info), NST_ERR_INVALID_HANDLE, "model handle")
        assertStatus(CBridge.nst_session_clear_style_images(model), NST_ERR_INVALID_HANDLE, "session handle")
        CBridge.nst_model_free(session)  // wrong kind: ignored
        XCTAssertEqual(CBridge.nst_session_clear_style_images(session), NST_OK)

        CBridge.nst_model_free(model)
        CBridge.nst_model_free(model)  // double free: no-op
        CBridge.nst_model_free(nil)
        assertStatus(CBridge.nst_model_get_info(model, &info), NST_ERR_INVALID_HANDLE, "nst_model_get_info")
        assertStatus(CBridge.nst_model_get_info(nil, &info), NST_ERR_INVALID_HANDLE)
        var local = 0
        withUnsafeMutablePointer(to: &local) { foreign in
            assertStatus(CBridge.nst_model_get_info(OpaquePointer(foreign), &info), NST_ERR_INVALID_HANDLE)
        }
        // The session keeps its model alive.
        var shape = [Float](repeating: 0, count: 3 * 32 * 32)
        XCTAssertEqual(CBridge.nst_session_get_image(session, &shape, Int64(shape.count)), NST_OK)
        CBridge.nst_session_free(session)
        CBridge.nst_session_free(session)
        assertStatus(CBridge.nst_session_get_image(session, &shape, Int64(shape.count)), NST_ERR_INVALID_HANDLE)
    }
}
