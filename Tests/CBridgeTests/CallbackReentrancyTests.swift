import CBridge
import CSwiftNST
import Foundation
import XCTest

/// What a progress callback does on each call: `body(session, call number)`; passed as user_data.
private final class Reentry {
    let session: OpaquePointer
    let body: (OpaquePointer, Int) -> Void
    var calls = 0
    init(_ session: OpaquePointer, _ body: @escaping (OpaquePointer, Int) -> Void) {
        self.session = session
        self.body = body
    }
}

private let reentrantCallback: nst_progress_callback = { _, userData in
    guard let userData else { return 1 }
    let reentry = Unmanaged<Reentry>.fromOpaque(userData).takeUnretainedValue()
    reentry.calls += 1
    reentry.body(reentry.session, reentry.calls)
    return 0
}

/// Calls made from inside a session's progress callback (swiftnst.h, nst_progress_callback): reads work
/// on the calling thread, changes are refused with NST_ERR_STATE, a free is deferred to the step's end.
final class CallbackReentrancyTests: XCTestCase {
    static let side: Int64 = 16
    static let count = Int(3 * side * side)

    private var model: OpaquePointer!

    override func setUpWithError() throws { model = try loadTestModel() }
    override func tearDown() { CBridge.nst_model_free(model) }

    /// A session with content and style targets and an image set, ready to step.
    private func readySession() throws -> OpaquePointer {
        var params = CBridge.nst_session_default_params()
        params.height = Self.side
        params.width = Self.side
        params.n_threads = 1
        var handle: OpaquePointer?
        XCTAssertEqual(CBridge.nst_session_init(model, &params, &handle), NST_OK, lastError())
        let session = try XCTUnwrap(handle)
        let image = (0..<Self.count).map { Float(($0 * 37) % 101) / 101 - 0.5 }
        XCTAssertEqual(CBridge.nst_session_set_content_image(session, image, Int64(Self.count)), NST_OK, lastError())
        XCTAssertEqual(CBridge.nst_session_add_style_image(session, image.reversed(), Int64(Self.count), Self.side, Self.side, 1),
                       NST_OK, lastError())
        XCTAssertEqual(CBridge.nst_session_set_image(session, image, Int64(Self.count)), NST_OK, lastError())
        return session
    }

    /// Steps `session` `n` times with `body` as the callback, on another thread, failing (instead of
    /// hanging the test run) when the step has not returned within a minute: a deadlock.
    private func step(_ session: OpaquePointer, _ n: Int32, file: StaticString = #filePath, line: UInt = #line,
                      _ body: @escaping (OpaquePointer, Int) -> Void) -> (status: nst_status, calls: Int, message: String) {
        let reentry = Reentry(session, body)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (nst_status, String) = (NST_ERR_INTERNAL, "")
        let bits = UInt(bitPattern: session)
        let context = UInt(bitPattern: Unmanaged.passRetained(reentry).toOpaque())
        Thread.detachNewThread {
            let status = CBridge.nst_session_step(OpaquePointer(bitPattern: bits), n, reentrantCallback,
                                                  UnsafeMutableRawPointer(bitPattern: context), nil)
            result = (status, lastError())
            done.signal()
        }
        guard done.wait(timeout: .now() + 60) == .success else {
            XCTFail("nst_session_step did not return: deadlock in the callback", file: file, line: line)
            return (NST_ERR_INTERNAL, reentry.calls, "deadlock")
        }
        Unmanaged<Reentry>.fromOpaque(UnsafeRawPointer(bitPattern: context)!).release()
        return (result.0, reentry.calls, result.1)
    }

    func testReadsInsideTheCallbackSeeTheStepJustTaken() throws {
        let session = try readySession()
        defer { CBridge.nst_session_free(session) }
        var seen: [[Float]] = []
        var bestTotals: [Double] = []
        var readStatuses: [nst_status] = []
        let model = self.model
        let result = step(session, 3) { session, _ in
            var image = [Float](repeating: .nan, count: Self.count)
            var best = [Float](repeating: .nan, count: Self.count)
            var losses = nst_losses()
            var info = nst_model_info()
            var shape = [Int64](repeating: 0, count: 3)
            var bytes: Int64 = 0
            readStatuses += [
                CBridge.nst_session_get_image(session, &image, Int64(Self.count)),
                CBridge.nst_session_get_best_image(session, &best, Int64(Self.count), &losses),
                CBridge.nst_session_predict_peak_bytes(session, nil, 0, 0, &bytes),
                CBridge.nst_model_get_info(model, &info),
                CBridge.nst_model_layer_shape(model, "relu1_1", 16, 16, &shape),
            ]
            seen.append(image)
            bestTotals.append(losses.total)
        }
        XCTAssertEqual(result.status, NST_OK, result.message)
        XCTAssertEqual(result.calls, 3)
        XCTAssertEqual(readStatuses, [nst_status](repeating: NST_OK, count: 15))
        XCTAssertTrue(bestTotals.allSatisfy(\.isFinite), "\(bestTotals)")
        XCTAssertNotEqual(seen[0], seen[1], "the image read in the callback did not change between steps")
        var final = [Float](repeating: .nan, count: Self.count)
        XCTAssertEqual(CBridge.nst_session_get_image(session, &final, Int64(Self.count)), NST_OK)
        XCTAssertEqual(seen.last, final, "the last callback did not see the image the step ended with")
    }

    func testChangesInsideTheCallbackAreRefusedAndChangeNothing() throws {
        let session = try readySession()
        defer { CBridge.nst_session_free(session) }
        var refusals: [(String, nst_status, String)] = []
        var unchanged = true
        let result = step(session, 2) { session, _ in
            var before = [Float](repeating: 0, count: Self.count), after = before
            _ = CBridge.nst_session_get_image(session, &before, Int64(Self.count))
            let zeros = [Float](repeating: 0, count: Self.count)
            var gradient = zeros
            let calls: [(String, () -> nst_status)] = [
                ("set_image", { CBridge.nst_session_set_image(session, zeros, Int64(Self.count)) }),
                ("set_content_image", { CBridge.nst_session_set_content_image(session, zeros, Int64(Self.count)) }),
                ("add_style_image", { CBridge.nst_session_add_style_image(session, zeros, Int64(Self.count), Self.side, Self.side, 1) }),
                ("clear_style_images", { CBridge.nst_session_clear_style_images(session) }),
                ("add_style_image_masked", { CBridge.nst_session_add_style_image_masked(
                    session, zeros, Int64(Self.count), Self.side, Self.side, 1, nil, 0, nil, 0) }),
                ("set_masks", { CBridge.nst_session_set_masks(session, nil, 0, nil, 0) }),
                ("set_content_layers", { withCStrings(["relu1_1"]) { CBridge.nst_session_set_content_layers(session, $0, [1], 1) } }),
                ("set_style_layers", { withCStrings(["relu1_1"]) { CBridge.nst_session_set_style_layers(session, $0, [1], 1) } }),
                ("set_histogram_layers", { withCStrings(["relu1_1"]) { CBridge.nst_session_set_histogram_layers(session, $0, [1], 1) } }),
                ("evaluate", { CBridge.nst_session_evaluate(session, zeros, Int64(Self.count), &gradient, Int64(Self.count), nil) }),
                ("step", { CBridge.nst_session_step(session, 1, nil, nil, nil) }),
                ("set_strips", { CBridge.nst_session_set_strips(session, "pool1", 8) }),
            ]
            for (name, call) in calls { refusals.append((name, call(), lastError())) }
            _ = CBridge.nst_session_get_image(session, &after, Int64(Self.count))
            unchanged = unchanged && before == after
        }
        XCTAssertEqual(result.status, NST_OK, result.message)
        XCTAssertEqual(result.calls, 2, "the step did not go on after the refused calls")
        XCTAssertEqual(refusals.count, 24)
        for (name, status, message) in refusals {
            XCTAssertEqual(status, NST_ERR_STATE, "\(name): \(message)")
            XCTAssertTrue(message.contains("not allowed inside this session's progress callback"), "\(name): \(message)")
        }
        XCTAssertTrue(unchanged, "a refused call changed the image")
        // The targets were kept: the session still steps (no NST_ERR_STATE for a missing target).
        XCTAssertEqual(CBridge.nst_session_step(session, 1, nil, nil, nil), NST_OK, lastError())
    }

    func testFreeInsideTheCallbackIsDeferredToTheEndOfTheStep() throws {
        let session = try readySession()
        var afterFree: nst_status = NST_OK
        let result = step(session, 5) { session, _ in
            CBridge.nst_session_free(session)
            var image = [Float](repeating: 0, count: Self.count)
            afterFree = CBridge.nst_session_get_image(session, &image, Int64(Self.count))
        }
        XCTAssertEqual(result.status, NST_ERR_CANCELLED, result.message)
        XCTAssertTrue(result.message.contains("freed"), result.message)
        XCTAssertEqual(result.calls, 1, "the step went on after the session was freed")
        XCTAssertEqual(afterFree, NST_ERR_INVALID_HANDLE, "the handle stayed valid after nst_session_free")
        assertStatus(CBridge.nst_session_clear_style_images(session), NST_ERR_INVALID_HANDLE)
        CBridge.nst_session_free(session)  // already freed: ignored
    }

    func testAnotherSessionMayBeUsedInsideTheCallback() throws {
        let session = try readySession(), other = try readySession()
        defer { CBridge.nst_session_free(session); CBridge.nst_session_free(other) }
        var statuses: [nst_status] = []
        let result = step(session, 2) { _, _ in statuses.append(CBridge.nst_session_step(other, 1, nil, nil, nil)) }
        XCTAssertEqual(result.status, NST_OK, result.message)
        XCTAssertEqual(statuses, [NST_OK, NST_OK], lastError())
    }

    func testAnotherThreadWaitsForTheStepInsteadOfEnteringTheCallback() throws {
        let session = try readySession()
        defer { CBridge.nst_session_free(session) }
        let finished = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var otherStatus: nst_status = NST_ERR_INTERNAL
        var finishedDuringCallback = true
        let bits = UInt(bitPattern: session)
        let result = step(session, 2) { _, call in
            guard call == 1 else { return }
            Thread.detachNewThread {
                var image = [Float](repeating: 0, count: Self.count)
                otherStatus = CBridge.nst_session_get_image(OpaquePointer(bitPattern: bits), &image, Int64(Self.count))
                finished.signal()
            }
            // The other thread's read must wait for the step, not run inside it.
            finishedDuringCallback = finished.wait(timeout: .now() + 0.5) == .success
        }
        XCTAssertEqual(result.status, NST_OK, result.message)
        XCTAssertFalse(finishedDuringCallback, "another thread read the session while its step ran")
        XCTAssertEqual(finished.wait(timeout: .now() + 60), .success, "the other thread never got the session")
        XCTAssertEqual(otherStatus, NST_OK)
    }
}
