import CBridge
import CSwiftNST
import Foundation
import XCTest

/// `nst_session_set_strips` and `nst_session_predict_peak_bytes`: statuses for hostile arguments, the
/// session unchanged on error, and strips giving the whole-image values through the ABI.
final class StripsCTests: XCTestCase {
    let side: Int64 = 48

    private func makeSession() throws -> OpaquePointer {
        let model = try loadTestModel()
        defer { CBridge.nst_model_free(model) }
        var params = CBridge.nst_session_default_params()
        params.height = side
        params.width = side
        var session: OpaquePointer?
        XCTAssertEqual(CBridge.nst_session_init(model, &params, &session), NST_OK, lastError())
        return try XCTUnwrap(session)
    }

    private func predict(_ session: OpaquePointer?, _ split: String?, _ rows: Int64, history: Int64 = 0) -> (nst_status, Int64) {
        var bytes: Int64 = -1
        let status = withOptionalCString(split) { CBridge.nst_session_predict_peak_bytes(session, $0, rows, history, &bytes) }
        return (status, bytes)
    }

    private func withOptionalCString<R>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
        guard let text else { return body(nil) }
        return text.withCString(body)
    }

    func testHostileArgumentsGetStatusesAndChangeNothing() throws {
        let session = try makeSession()
        defer { CBridge.nst_session_free(session) }
        let (okStatus, whole) = predict(session, nil, 0)
        XCTAssertEqual(okStatus, NST_OK, lastError())
        XCTAssertGreaterThan(whole, 0)
        let cases: [(String?, Int64, Int32, String)] = [
            ("relu3_1", 16, NST_ERR_INVALID_ARGUMENT, "pooling layer"), ("pool3", 8, NST_ERR_INVALID_ARGUMENT, "multiple of 16"),
            ("pool3", 0, NST_ERR_INVALID_ARGUMENT, "multiple of 16"), ("pool3", -1, NST_ERR_INVALID_ARGUMENT, "strip_rows"),
            ("pool3", .max, NST_ERR_INVALID_ARGUMENT, "up to 8192"), ("pool3", .min, NST_ERR_INVALID_ARGUMENT, "strip_rows"),
            ("pool7", 16, NST_ERR_UNKNOWN_LAYER, "pool7"), (String(repeating: "p", count: 500), 16, NST_ERR_INVALID_ARGUMENT, "longer"),
        ]
        for (split, rows, expected, fragment) in cases {
            assertStatus(withOptionalCString(split) { CBridge.nst_session_set_strips(session, $0, rows) }, expected,
                         "nst_session_set_strips", fragment)
            let (status, bytes) = predict(session, split, rows)
            assertStatus(status, expected, "nst_session_predict_peak_bytes", fragment)
            XCTAssertEqual(bytes, -1, "bytes_out untouched on error")
        }
        let invalidUTF8: [CChar] = [CChar(bitPattern: 0xFF), CChar(bitPattern: 0xFE), 0]
        assertStatus(CBridge.nst_session_set_strips(session, invalidUTF8, 16), NST_ERR_INVALID_ARGUMENT,
                     "nst_session_set_strips", "UTF-8")
        XCTAssertEqual(predict(session, nil, 0).1, whole)
        for history in [Int64(-1), .min] {
            assertStatus(predict(session, nil, 0, history: history).0, NST_ERR_INVALID_ARGUMENT, "lbfgs_history")
        }
        assertStatus(predict(session, "pool3", 16, history: .max).0, NST_ERR_INVALID_ARGUMENT, "too large")
        assertStatus(CBridge.nst_session_predict_peak_bytes(session, nil, 0, 0, nil), NST_ERR_NULL_POINTER, "bytes_out")
        var bytes: Int64 = 0
        assertStatus(CBridge.nst_session_predict_peak_bytes(nil, nil, 0, 0, &bytes), NST_ERR_INVALID_HANDLE, "session")
        assertStatus(CBridge.nst_session_set_strips(nil, nil, 0), NST_ERR_INVALID_HANDLE, "session")
        XCTAssertEqual(CBridge.nst_session_set_strips(session, nil, -5), NST_OK, "rows are ignored without a split layer")
    }

    func testStripsGiveTheWholeImageValues() throws {
        let session = try makeSession()
        defer { CBridge.nst_session_free(session) }
        let count = Int(3 * side * side)
        let images: [[Float]] = (0..<3).map { (seed: Int) -> [Float] in
            (0..<count).map { (i: Int) -> Float in Float(((i + seed * 7) * 37 + seed) % 101) - 50 }
        }
        XCTAssertEqual(CBridge.nst_session_set_content_image(session, images[0], Int64(count)), NST_OK, lastError())
        XCTAssertEqual(CBridge.nst_session_add_style_image(session, images[1], Int64(count), side, side, 1), NST_OK, lastError())
        func evaluate() -> (nst_losses, [Float]) {
            var losses = nst_losses()
            var gradient = [Float](repeating: .nan, count: count)
            XCTAssertEqual(CBridge.nst_session_evaluate(session, images[2], Int64(count), &gradient, Int64(count), &losses),
                           NST_OK, lastError())
            return (losses, gradient)
        }
        let (wholeLosses, wholeGradient) = evaluate()
        XCTAssertEqual("pool2".withCString { CBridge.nst_session_set_strips(session, $0, 8) }, NST_OK, lastError())
        let (stripLosses, stripGradient) = evaluate()
        XCTAssertEqual(stripLosses.total, wholeLosses.total, accuracy: 1e-5 * wholeLosses.total)
        let scale = Double(wholeGradient.map(abs).max()!)
        let worst = zip(stripGradient, wholeGradient).map { Double(abs($0 - $1)) }.max()!
        XCTAssertLessThanOrEqual(worst / scale, 1e-5)
    }
}
