import CBridge
import CSwiftNST
import XCTest

/// Handles are generation-tagged tokens, not addresses: a freed handle never names another object,
/// even when the new object lands at the freed one's address (which malloc makes likely).
final class StaleHandleTests: XCTestCase {
    private func makeSession(_ model: OpaquePointer) throws -> OpaquePointer {
        var params = CBridge.nst_session_default_params()
        params.height = 16
        params.width = 16
        params.n_threads = 1
        var session: OpaquePointer?
        XCTAssertEqual(CBridge.nst_session_init(model, &params, &session), NST_OK, lastError())
        return try XCTUnwrap(session)
    }

    func testAFreedModelHandleNeverNamesTheNextModel() throws {
        let a = try loadTestModel()
        CBridge.nst_model_free(a)
        let b = try loadTestModel()
        defer { CBridge.nst_model_free(b) }
        XCTAssertNotEqual(a, b, "a new model got the freed model's handle")
        var info = nst_model_info()
        assertStatus(CBridge.nst_model_get_info(a, &info), NST_ERR_INVALID_HANDLE, "model handle")
        CBridge.nst_model_free(a)  // a second free of A is ignored: it must not free B
        XCTAssertEqual(CBridge.nst_model_get_info(b, &info), NST_OK, lastError())
        XCTAssertEqual(info.n_layers, 31)
    }

    func testAFreedSessionHandleNeverNamesTheNextSession() throws {
        let model = try loadTestModel()
        defer { CBridge.nst_model_free(model) }
        let a = try makeSession(model)
        CBridge.nst_session_free(a)
        let b = try makeSession(model)
        defer { CBridge.nst_session_free(b) }
        XCTAssertNotEqual(a, b, "a new session got the freed session's handle")
        assertStatus(CBridge.nst_session_clear_style_images(a), NST_ERR_INVALID_HANDLE, "session handle")
        var image = [Float](repeating: 0, count: 3 * 16 * 16)
        assertStatus(CBridge.nst_session_get_image(a, &image, Int64(image.count)), NST_ERR_INVALID_HANDLE)
        CBridge.nst_session_free(a)  // ignored: B stays alive
        XCTAssertEqual(CBridge.nst_session_get_image(b, &image, Int64(image.count)), NST_OK, lastError())
        XCTAssertEqual(CBridge.nst_session_clear_style_images(b), NST_OK, lastError())
    }

    func testHandlesOfManyFreedSessionsAreAllDistinctAndDead() throws {
        let model = try loadTestModel()
        defer { CBridge.nst_model_free(model) }
        var seen = Set<UInt>()
        for _ in 0..<100 {
            let session = try makeSession(model)
            XCTAssertTrue(seen.insert(UInt(bitPattern: session)).inserted, "handle \(session) was given out twice")
            CBridge.nst_session_free(session)
        }
        for bits in seen {
            assertStatus(CBridge.nst_session_clear_style_images(OpaquePointer(bitPattern: bits)), NST_ERR_INVALID_HANDLE)
        }
    }

    func testAHandleOfTheOtherKindIsRefusedAndNotFreed() throws {
        let model = try loadTestModel()
        defer { CBridge.nst_model_free(model) }
        let session = try makeSession(model)
        defer { CBridge.nst_session_free(session) }
        var info = nst_model_info()
        assertStatus(CBridge.nst_model_get_info(session, &info), NST_ERR_INVALID_HANDLE, "model handle")
        assertStatus(CBridge.nst_session_clear_style_images(model), NST_ERR_INVALID_HANDLE, "session handle")
        CBridge.nst_model_free(session)  // a session given to nst_model_free is ignored ...
        CBridge.nst_session_free(model)  // ... and a model given to nst_session_free
        XCTAssertEqual(CBridge.nst_model_get_info(model, &info), NST_OK, lastError())
        XCTAssertEqual(CBridge.nst_session_clear_style_images(session), NST_OK, lastError())
    }

    func testForgedAndRandomValuesAreRefused() throws {
        let model = try loadTestModel()
        defer { CBridge.nst_model_free(model) }
        let bits = UInt(bitPattern: model)
        var local = 0
        let address = withUnsafeMutablePointer(to: &local) { UInt(bitPattern: $0) }
        var generator = SystemRandomNumberGenerator()
        let forged: [UInt] = [0x1234, address, bits &+ 1, bits &- 1, bits ^ (1 << 40), bits ^ (1 << 60), UInt.max]
            + (0..<100).map { _ in UInt.random(in: 1...UInt.max, using: &generator) }
        var info = nst_model_info()
        for value in forged where value != bits {
            let handle = OpaquePointer(bitPattern: value)
            assertStatus(CBridge.nst_model_get_info(handle, &info), NST_ERR_INVALID_HANDLE)
            assertStatus(CBridge.nst_session_clear_style_images(handle), NST_ERR_INVALID_HANDLE)
            CBridge.nst_model_free(handle)
            CBridge.nst_session_free(handle)
        }
        XCTAssertEqual(CBridge.nst_model_get_info(model, &info), NST_OK, "a forged handle freed the model")
    }
}
