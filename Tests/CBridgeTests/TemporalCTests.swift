import CBridge
import CSwiftNST
import XCTest

/// `nst_session_set_temporal_target`: statuses for hostile arguments (the session unchanged on error), and
/// the term reported in `nst_losses.temporal` and added to `total`.
final class TemporalCTests: XCTestCase {
    let side: Int64 = 32
    var pixels: Int { Int(side * side) }

    private func makeSession() throws -> OpaquePointer {
        let model = try loadTestModel()
        defer { CBridge.nst_model_free(model) }
        var params = CBridge.nst_session_default_params()
        (params.height, params.width, params.content_weight, params.style_weight) = (side, side, 0, 0)
        var session: OpaquePointer?
        XCTAssertEqual(CBridge.nst_session_init(model, &params, &session), NST_OK, lastError())
        return try XCTUnwrap(session)
    }

    private func losses(_ session: OpaquePointer?, _ image: [Float]) -> nst_losses {
        var losses = nst_losses()
        XCTAssertEqual(CBridge.nst_session_evaluate(session, image, Int64(image.count), nil, 0, &losses), NST_OK, lastError())
        return losses
    }

    func testTermIsReportedAndHostileArgumentsChangeNothing() throws {
        let session = try makeSession()
        defer { CBridge.nst_session_free(session) }
        let count = 3 * pixels
        let image = [Float](repeating: 2, count: count), target = [Float](repeating: 0, count: count)
        var weights = [Float](repeating: 3, count: pixels)
        weights[0] = 0
        XCTAssertEqual(losses(session, image).temporal, 0)
        XCTAssertEqual(CBridge.nst_session_set_temporal_target(session, target, Int64(count), weights, Int64(pixels)), NST_OK, lastError())
        // Every pixel but one contributes 3 · 2² per channel; the mean is over 3 · pixels values.
        let expected = Double(3 * 4 * 3 * (pixels - 1)) / Double(count)
        let set = losses(session, image)
        XCTAssertEqual(set.temporal, expected, accuracy: 1e-9)
        XCTAssertEqual(set.total, set.content + set.style + set.tv + set.temporal, accuracy: 1e-9)

        let nan = [Float](repeating: .nan, count: pixels), negative = [Float](repeating: -1, count: pixels)
        assertStatus(CBridge.nst_session_set_temporal_target(session, target, Int64(count), nil, 0), NST_ERR_INVALID_ARGUMENT, "both")
        assertStatus(CBridge.nst_session_set_temporal_target(session, nil, 0, weights, Int64(pixels)), NST_ERR_INVALID_ARGUMENT, "both")
        assertStatus(CBridge.nst_session_set_temporal_target(session, target, Int64(count - 1), weights, Int64(pixels)), NST_ERR_SHAPE, "target")
        assertStatus(CBridge.nst_session_set_temporal_target(session, target, Int64(count), weights, Int64(pixels + 1)), NST_ERR_SHAPE, "weights")
        assertStatus(CBridge.nst_session_set_temporal_target(session, target, Int64(count), weights, -1), NST_ERR_SHAPE, "weights")
        assertStatus(CBridge.nst_session_set_temporal_target(session, target, Int64(count), nan, Int64(pixels)), NST_ERR_NUMERIC, "NaN")
        assertStatus(CBridge.nst_session_set_temporal_target(session, target, Int64(count), negative, Int64(pixels)), NST_ERR_INVALID_ARGUMENT, ">= 0")
        assertStatus(CBridge.nst_session_set_temporal_target(nil, target, Int64(count), weights, Int64(pixels)), NST_ERR_INVALID_HANDLE)
        XCTAssertEqual(losses(session, image).temporal, expected, accuracy: 1e-9, "a refused call changed the term")

        XCTAssertEqual(CBridge.nst_session_set_temporal_target(session, nil, 0, nil, 0), NST_OK, lastError())
        XCTAssertEqual(losses(session, image).temporal, 0)
    }

    /// Before any step the best image's losses are NaN, the temporal one included.
    func testBestLossesBeforeAStepAreNaN() throws {
        let session = try makeSession()
        defer { CBridge.nst_session_free(session) }
        var image = [Float](repeating: 0, count: 3 * pixels)
        var losses = nst_losses()
        XCTAssertEqual(CBridge.nst_session_get_best_image(session, &image, Int64(image.count), &losses), NST_OK, lastError())
        XCTAssertTrue(losses.temporal.isNaN)
    }
}
