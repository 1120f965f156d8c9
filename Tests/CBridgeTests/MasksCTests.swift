import CBridge
import CSwiftNST
import Foundation
import XCTest

/// `nst_session_add_style_image_masked`, `nst_session_set_masks` and `params.normalize_gradients`:
/// statuses for hostile arguments, the session unchanged on error, and masks reaching the objective.
final class MasksCTests: XCTestCase {
    let side: Int64 = 32

    private func makeSession(normalizeGradients: Int32 = 0) throws -> (OpaquePointer?, nst_status) {
        let model = try loadTestModel()
        defer { CBridge.nst_model_free(model) }
        var params = CBridge.nst_session_default_params()
        (params.height, params.width, params.normalize_gradients) = (side, side, normalizeGradients)
        var session: OpaquePointer?
        let status = CBridge.nst_session_init(model, &params, &session)
        return (session, status)
    }

    private func image(_ seed: Int) -> [Float] {
        (0..<Int(3 * side * side)).map { Float(($0 * 7919 + seed * 104729) % 255) / 255 - 0.5 }
    }

    private func evaluate(_ session: OpaquePointer?, _ x: [Float]) -> (nst_status, nst_losses) {
        var losses = nst_losses()
        let status = CBridge.nst_session_evaluate(session, x, Int64(x.count), nil, 0, &losses)
        return (status, losses)
    }

    func testNormalizeGradientsMustBeZeroOrOne() throws {
        let (session, status) = try makeSession(normalizeGradients: 2)
        assertStatus(status, NST_ERR_INVALID_ARGUMENT, "params.normalize_gradients must be 0 or 1, got 2")
        XCTAssertNil(session)
        let (normalized, ok) = try makeSession(normalizeGradients: 1)
        XCTAssertEqual(ok, NST_OK, lastError())
        CBridge.nst_session_free(normalized)
    }

    func testHostileMaskArgumentsGetStatusesAndChangeNothing() throws {
        let (session, status) = try makeSession()
        XCTAssertEqual(status, NST_OK, lastError())
        defer { CBridge.nst_session_free(session) }
        let x = image(1), positions = Int(side * side)
        // relu1_1 only: a position's features see its 3x3 neighbourhood, so a change two columns right of
        // a mask's edge leaves the masked terms unchanged.
        for setter in [CBridge.nst_session_set_content_layers, CBridge.nst_session_set_style_layers] {
            let status = withCStrings(["relu1_1"]) { setter(session, $0, [1], 1) }
            XCTAssertEqual(status, NST_OK, lastError())
        }
        XCTAssertEqual(CBridge.nst_session_set_content_image(session, x, Int64(x.count)), NST_OK, lastError())
        let half = (0..<positions).map { Float($0 % Int(side) < Int(side) / 2 ? 1 : 0) }
        let bad = [Float](repeating: 1.5, count: positions)
        let nan = [Float](repeating: .nan, count: positions)
        assertStatus(CBridge.nst_session_set_masks(session, half, Int64(positions - 1), nil, 0), NST_ERR_SHAPE, "content_mask_count")
        assertStatus(CBridge.nst_session_set_masks(session, nil, 0, bad, Int64(positions)), NST_ERR_INVALID_ARGUMENT, "style mask values")
        assertStatus(CBridge.nst_session_set_masks(session, nan, Int64(positions), nil, 0), NST_ERR_INVALID_ARGUMENT, "content mask values")
        assertStatus(CBridge.nst_session_set_masks(nil, nil, 0, nil, 0), NST_ERR_INVALID_HANDLE)
        let style = image(2)
        let add = { (mask: [Float]?, maskCount: Int64, region: [Float]?, regionCount: Int64) in
            CBridge.nst_session_add_style_image_masked(session, style, Int64(style.count), self.side, self.side, 1,
                                                        mask, maskCount, region, regionCount)
        }
        assertStatus(add(half, 3, nil, 0), NST_ERR_SHAPE, "mask_count")
        assertStatus(add(nil, 0, half, Int64(positions + 1)), NST_ERR_SHAPE, "region_count")
        assertStatus(add(bad, Int64(positions), nil, 0), NST_ERR_INVALID_ARGUMENT, "style image mask values")
        assertStatus(add([Float](repeating: 0, count: positions), Int64(positions), nil, 0), NST_ERR_INVALID_ARGUMENT, "covers nothing")
        assertStatus(CBridge.nst_session_add_style_image_masked(session, nil, 0, side, side, 1, nil, 0, nil, 0),
                     NST_ERR_SHAPE)
        // Sides beyond NST_MAX_IMAGE_SIDE with counts that agree: refused before the mask (1 TiB here) is read.
        let huge: Int64 = 1 << 19
        assertStatus(CBridge.nst_session_add_style_image_masked(session, style, 3 * huge * huge, huge, huge, 1,
                                                                 half, huge * huge, nil, 0),
                     NST_ERR_SHAPE, "image height must be 1...\(NST_MAX_IMAGE_SIDE), got \(huge)")
        // Nothing was added: the style term still has no image.
        assertStatus(evaluate(session, x).0, NST_ERR_STATE, "no style image")
        // Valid calls; a region on the left half only and a content mask lower the losses of a right-half change.
        XCTAssertEqual(add(half, Int64(positions), half, Int64(positions)), NST_OK, lastError())
        XCTAssertEqual(CBridge.nst_session_set_masks(session, half, Int64(positions), nil, 0), NST_OK, lastError())
        var changed = x
        for c in 0..<3 { for p in 0..<positions where p % Int(side) > Int(side) / 2 { changed[c * positions + p] += 0.3 } }
        let (okStatus, losses) = evaluate(session, changed)
        XCTAssertEqual(okStatus, NST_OK, lastError())
        XCTAssertEqual(losses.content, 0, accuracy: 1e-6, "the change is where the content mask is 0")
        XCTAssertEqual(evaluate(session, x).1.style, losses.style, accuracy: 1e-5 * losses.style,
                       "the change is outside the style region")
        // Masks refuse strips at evaluation.
        XCTAssertEqual(CBridge.nst_session_set_strips(session, "pool1", 8), NST_OK, lastError())
        assertStatus(evaluate(session, x).0, NST_ERR_STATE, "whole-image evaluation")
    }
}
