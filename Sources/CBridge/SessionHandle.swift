import CSwiftNST
import Glibc
import NSTEngine

/// What an `nst_session` handle names. It retains its model, so the model may be freed first.
///
/// Calls on one session run one thread at a time: a caller that breaks the one-thread rule waits,
/// it does not corrupt memory. The exception is the session's own progress callback: the step that
/// called it holds the lock, paused between two steps, so on that thread the callback may read the
/// session without the lock (`reading`), and may not change it (`changing` refuses with
/// `NST_ERR_STATE`), since the step goes on from the state it left. Freeing the session there is
/// deferred: the handle dies at once, the step stops after the current step, and the object is
/// released when `nst_session_step` returns and drops the last reference.
final class SessionHandle {
    let model: ModelHandle
    let session: StyleTransferSession
    /// Held for the whole of every call on the session, each step with its callbacks included.
    private let lock = Lock()
    /// Guards `callbackThread` and `freed`, which other threads read while a step holds `lock`.
    private let stateLock = Lock()
    /// The thread running this session's progress callback, while it runs.
    private var callbackThread: pthread_t?
    /// Set by `nst_session_free`: a step running then stops after its current step.
    private var freed = false

    init(model: ModelHandle, session: StyleTransferSession) {
        self.model = model
        self.session = session
    }

    static func from(_ handle: OpaquePointer?) throws -> SessionHandle {
        guard let session = HandleRegistry.shared.lookup(handle, as: SessionHandle.self) else {
            throw BridgeError.invalidHandle("session")
        }
        return session
    }

    /// Whether the calling thread is inside this session's progress callback.
    private var isInsideOwnCallback: Bool {
        stateLock.withLock { callbackThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
    }

    /// Runs a call that only reads the session: at once inside the session's own progress callback
    /// (the step below holds the lock, paused), otherwise once the lock is free.
    func reading<R>(_ body: (StyleTransferSession) throws -> R) rethrows -> R {
        if isInsideOwnCallback { return try body(session) }
        return try lock.withLock { try body(session) }
    }

    /// Runs a call that changes the session (steps and evaluations included) once the lock is free.
    /// - Throws: `NSTError.state` inside the session's own progress callback.
    func changing<R>(_ body: (StyleTransferSession) throws -> R) throws -> R {
        guard !isInsideOwnCallback else {
            throw NSTError.state("not allowed inside this session's progress callback, which may only read the "
                                 + "session (nst_session_get_image, nst_session_get_best_image, nst_session_predict_peak_bytes, "
                                 + "nst_session_state_size, nst_session_save_state)")
        }
        return try lock.withLock { try body(session) }
    }

    /// Runs `callback` as this session's progress callback on this thread; whether the step goes on
    /// (the callback says so and the session was not freed meanwhile).
    func runProgressCallback(_ callback: () -> Bool) -> Bool {
        stateLock.withLock { callbackThread = pthread_self() }
        let proceed = callback()
        return stateLock.withLock {
            callbackThread = nil
            return proceed && !freed
        }
    }

    /// Whether `nst_session_free` was called on this session.
    var isFreed: Bool { stateLock.withLock { freed } }

    /// Records that the handle was freed, so a step running now stops after its current step.
    func markFreed() { stateLock.withLock { freed = true } }

    /// An image of the session's size from a caller's buffer.
    func image(_ pointer: UnsafePointer<Float>?, count: Int64, _ name: String = "image") throws -> UnsafeBufferPointer<Float> {
        try checkCount(count, session.imageCount, name)
        return try floats(pointer, count: session.imageCount, name)
    }
}
