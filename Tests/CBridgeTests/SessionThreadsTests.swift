import CBridge
import CSwiftNST
import Foundation
import NSTEngine
import XCTest

/// What `Parallel.threadCount` was inside each progress callback of a step (passed as user_data).
private final class ThreadCountLog: @unchecked Sendable {
    var counts: [Int] = []
}

private let recordThreadCount: nst_progress_callback = { _, userData in
    guard let userData else { return 1 }
    Unmanaged<ThreadCountLog>.fromOpaque(userData).takeUnretainedValue().counts.append(Parallel.threadCount)
    return 0
}

/// `n_threads` belongs to its session: the engine's work in a session's calls (and its progress
/// callback, which runs inside the step) sees that session's count, whatever other sessions exist.
final class SessionThreadsTests: XCTestCase {
    private let side: Int64 = 16

    private func makeReadySession(_ model: OpaquePointer, threads: Int32) throws -> OpaquePointer {
        var params = CBridge.nst_session_default_params()
        params.height = side
        params.width = side
        params.n_threads = threads
        var session: OpaquePointer?
        XCTAssertEqual(CBridge.nst_session_init(model, &params, &session), NST_OK, lastError())
        let handle = try XCTUnwrap(session)
        withCStrings(["relu1_1"]) { names in
            XCTAssertEqual(CBridge.nst_session_set_style_layers(handle, names, [1], 1), NST_OK, lastError())
            XCTAssertEqual(CBridge.nst_session_set_content_layers(handle, names, [1], 1), NST_OK, lastError())
        }
        let count = Int(3 * side * side)
        let image = (0..<count).map { Float($0 % 13) - 6 }
        XCTAssertEqual(CBridge.nst_session_set_content_image(handle, image, Int64(count)), NST_OK, lastError())
        XCTAssertEqual(CBridge.nst_session_add_style_image(handle, image.reversed(), Int64(count), side, side, 1), NST_OK)
        return handle
    }

    /// The thread counts seen by the callbacks of `steps` steps of `session`.
    private static func stepCounts(_ session: OpaquePointer, steps: Int32 = 2) -> [Int] {
        let log = ThreadCountLog()
        let status = CBridge.nst_session_step(session, steps, recordThreadCount, Unmanaged.passUnretained(log).toOpaque(), nil)
        XCTAssertEqual(status, NST_OK, lastError())
        return log.counts
    }

    func testEachSessionComputesWithItsOwnThreadCount() throws {
        let model = try loadTestModel()
        defer { CBridge.nst_model_free(model) }
        let two = try makeReadySession(model, threads: 2)
        defer { CBridge.nst_session_free(two) }
        let one = try makeReadySession(model, threads: 1)  // created last: no "last session wins"
        defer { CBridge.nst_session_free(one) }
        let perCore = try makeReadySession(model, threads: 0)
        defer { CBridge.nst_session_free(perCore) }

        // Alternately, on this thread.
        XCTAssertEqual(Self.stepCounts(one), [1, 1])
        XCTAssertEqual(Self.stepCounts(two), [2, 2])
        XCTAssertEqual(Self.stepCounts(one), [1, 1])
        let cores = ProcessInfo.processInfo.activeProcessorCount
        XCTAssertEqual(Self.stepCounts(perCore), [cores, cores])
        XCTAssertEqual(Parallel.threadCount, cores, "nothing stays bound on the caller's thread")

        // Concurrently, on two threads.
        let results = ThreadCountLog()
        let lock = NSLock()
        let done = DispatchGroup()
        for (session, expected) in [(one, 1), (two, 2)] {
            done.enter()
            let handle = UInt(bitPattern: UnsafeRawPointer(session))
            Thread {
                let counts = Self.stepCounts(OpaquePointer(bitPattern: handle)!, steps: 3)
                lock.withLock { results.counts += counts.map { $0 == expected ? 1 : 0 } }
                done.leave()
            }.start()
        }
        done.wait()
        XCTAssertEqual(results.counts, [Int](repeating: 1, count: 6), "each step saw its own session's count")
    }
}
