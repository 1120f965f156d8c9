import CBridge
import CSwiftNST
import XCTest

/// Every export that takes caller sizes or counts, called with extreme values: each call returns a
/// status (never a trap from an unchecked multiplication, never NST_ERR_INTERNAL). The buffers are
/// small; a case only claims sizes the library must refuse before touching them (see `sweep`).
/// python/tests/reliability/test_abi_overflow.py runs the same table in a child process.
final class ABIOverflowTests: XCTestCase {
    static let extremes: [Int64] = [.max, .max / 2, 1 << 32, 1 << 31, -1, .min, 0]
    static let extremes32: [Int32] = [.max, .max / 2, 1 << 16, -1, .min, 0]
    /// A companion size that makes any product with another extreme size overflow its byte size.
    static let huge: Int64 = 1 << 31

    private var buffer = [Float](repeating: 0, count: 1024)  // more than one 16x16 image
    private var model: OpaquePointer!
    private var session: OpaquePointer!

    override func setUpWithError() throws {
        model = try loadTestModel()
        var params = CBridge.nst_session_default_params()
        params.height = 16
        params.width = 16
        params.n_threads = 1
        XCTAssertEqual(CBridge.nst_session_init(model, &params, &session), NST_OK, lastError())
    }

    override func tearDown() {
        CBridge.nst_session_free(session)
        CBridge.nst_model_free(model)
    }

    /// Calls `call` with `arity` sizes: each in turn set to each extreme value, the others to each of
    /// `companions`. `mayAccept(sizes)` says when NST_OK is a right answer.
    private func sweep(_ name: String, arity: Int, companions: [Int64] = [huge],
                       mayAccept: ([Int64]) -> Bool = { _ in false }, _ call: ([Int64]) -> nst_status) {
        for position in 0..<arity {
            for companion in companions {
                for value in Self.extremes {
                    var sizes = [Int64](repeating: companion, count: arity)
                    sizes[position] = value
                    check(name, sizes.description, call(sizes), mayAccept: mayAccept(sizes))
                }
            }
        }
    }

    private func check(_ name: String, _ sizes: String, _ status: nst_status, mayAccept: Bool,
                       file: StaticString = #filePath, line: UInt = #line) {
        let label = "\(name)\(sizes): \(String(cString: CBridge.nst_status_name(status))) \(lastError())"
        XCTAssertNotEqual(String(cString: CBridge.nst_status_name(status)), "NST_UNKNOWN_STATUS", label, file: file, line: line)
        XCTAssertNotEqual(status, NST_ERR_INTERNAL, label, file: file, line: line)
        if !mayAccept { XCTAssertNotEqual(status, NST_OK, label, file: file, line: line) }
    }

    func testCostsAndLayerOperations() {
        var cost = 0.0
        let n = Int64(buffer.count)
        buffer.withUnsafeMutableBufferPointer { b in
            let p = b.baseAddress!
            sweep("nst_gram_matrix", arity: 2, companions: [1, Self.huge]) { nst_gram_matrix(p, $0[0], $0[1], p, n) }
            sweep("nst_gram_matrix(gram_count)", arity: 1) { nst_gram_matrix(p, 2, 2, p, $0[0]) }
            sweep("nst_content_cost", arity: 3) { nst_content_cost(p, p, $0[0], $0[1], $0[2], &cost) }
            sweep("nst_layer_style_cost", arity: 3) { nst_layer_style_cost(p, p, $0[0], $0[1], $0[2], &cost) }
            // channels alone: the two Gram matrices (channels^2 each) are refused before a_s is read
            sweep("nst_layer_style_cost(channels)", arity: 1) { nst_layer_style_cost(p, p, $0[0], 1, 1, &cost) }
            sweep("nst_op_conv3x3_forward", arity: 5, companions: [1, Self.huge]) {
                nst_op_conv3x3_forward(p, $0[0], $0[1], $0[2], p, p, $0[3], p, $0[4])
            }
            sweep("nst_op_conv3x3_backward_input", arity: 5, companions: [1, Self.huge]) {
                nst_op_conv3x3_backward_input(p, $0[0], $0[1], $0[2], p, $0[3], p, $0[4])
            }
            // the count is the buffers' length: NULL buffers, so a count the library accepts reads nothing
            sweep("nst_op_relu_forward", arity: 1, mayAccept: { $0[0] == 0 }) { nst_op_relu_forward(nil, nil, $0[0]) }
            sweep("nst_op_relu_backward", arity: 1, mayAccept: { $0[0] == 0 }) {
                nst_op_relu_backward(nil, nil, nil, $0[0])
            }
            // a 1x1 input pools to nothing: an empty output (count 0) is right
            sweep("nst_op_pool2x2_forward", arity: 4, companions: [1, Self.huge], mayAccept: { $0 == [1, 1, 1, 0] }) {
                nst_op_pool2x2_forward(NST_POOLING_MAX, p, $0[0], $0[1], $0[2], p, $0[3])
            }
            sweep("nst_op_pool2x2_backward", arity: 5, companions: [1, Self.huge], mayAccept: { $0 == [1, 1, 1, 0, 1] }) {
                nst_op_pool2x2_backward(NST_POOLING_AVG, p, $0[0], $0[1], $0[2], p, $0[3], p, $0[4])
            }
            sweep("nst_op_gram_backward", arity: 3, companions: [1, Self.huge]) {
                nst_op_gram_backward(p, $0[0], $0[1], p, p, $0[2])
            }
        }
    }

    func testModelExports() {
        let model = self.model
        var shape = [Int64](repeating: 0, count: 3)
        sweep("nst_model_layer_shape", arity: 2, companions: [16]) { nst_model_layer_shape(model, "relu1_1", $0[0], $0[1], &shape) }
        buffer.withUnsafeMutableBufferPointer { b in
            let p = b.baseAddress!
            var outputs: [UnsafeMutablePointer<Float>?] = [p]
            sweep("nst_model_forward", arity: 4, companions: [16]) { sizes in
                var counts = [sizes[3]]
                return withCStrings(["relu1_1"]) { nst_model_forward(model, p, sizes[0], sizes[1], sizes[2], NST_POOLING_MAX, $0, 1, &outputs, &counts) }
            }
            sweep("nst_model_forward(output_counts[0])", arity: 1) { sizes in
                var counts = [sizes[0]]
                return withCStrings(["relu1_1"]) { nst_model_forward(model, p, 768, 16, 16, NST_POOLING_MAX, $0, 1, &outputs, &counts) }
            }
        }
        var name: UnsafePointer<CChar>?
        for index in Self.extremes32 where index != 0 {
            check("nst_model_layer_name", "[\(index)]", nst_model_layer_name(model, index, &name), mayAccept: false)
        }
    }

    func testSessionExports() {
        let session = self.session
        var losses = nst_losses()
        var bytes: Int64 = 0
        buffer.withUnsafeMutableBufferPointer { b in
            let p = b.baseAddress!
            sweep("nst_session_set_content_image", arity: 1) { nst_session_set_content_image(session, p, $0[0]) }
            sweep("nst_session_set_image", arity: 1) { nst_session_set_image(session, p, $0[0]) }
            sweep("nst_session_add_style_image", arity: 3, companions: [16, Self.huge]) {
                nst_session_add_style_image(session, p, $0[0], $0[1], $0[2], 1)
            }
            sweep("nst_session_evaluate", arity: 2, companions: [768]) { nst_session_evaluate(session, p, $0[0], p, $0[1], &losses) }
            sweep("nst_session_get_image", arity: 1) { nst_session_get_image(session, p, $0[0]) }
            sweep("nst_session_get_best_image", arity: 1) { nst_session_get_best_image(session, p, $0[0], &losses) }
        }
        sweep("nst_session_set_strips", arity: 1) { nst_session_set_strips(session, "pool1", $0[0]) }
        // a large history is a valid question with a large answer
        sweep("nst_session_predict_peak_bytes", arity: 2, companions: [0, 8], mayAccept: { $0[0] >= 0 && $0[1] >= 0 }) {
            nst_session_predict_peak_bytes(session, $0[0] == 0 ? nil : "pool1", $0[0], $0[1], &bytes)
        }
        for n in Self.extremes32 where n != 0 {
            check("nst_session_step", "[\(n)]", nst_session_step(session, n, nil, nil, nil), mayAccept: false)
            withCStrings(["relu1_1"]) { names in
                check("nst_session_set_style_layers", "[\(n)]", nst_session_set_style_layers(session, names, [1], n), mayAccept: false)
            }
        }
    }

    func testSessionParams() {
        let model = self.model
        for field in 0..<4 {
            for value in Self.extremes {
                var params = CBridge.nst_session_default_params()
                params.height = field == 0 ? value : 16
                params.width = field == 1 ? value : 16
                if field == 2 { params.lbfgs_history = Int32(truncatingIfNeeded: value) }
                if field == 3 { params.n_threads = Int32(truncatingIfNeeded: value) }
                var created: OpaquePointer?
                let status = nst_session_init(model, &params, &created)
                // a large history or thread count is allowed (allocated on use, and bounded by the work)
                check("nst_session_init", "[field \(field) = \(value)]", status, mayAccept: field >= 2)
                CBridge.nst_session_free(created)
            }
        }
    }
}
