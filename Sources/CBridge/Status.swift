import CSwiftNST
import Glibc
import NSTEngine

/// A failure detected by the bridge itself (NULL pointers, dead handles, bad counts), carrying
/// the status to return and the message for `nst_last_error()`.
struct BridgeError: Error {
    let status: nst_status
    let message: String

    static func nullPointer(_ name: String) -> BridgeError {
        BridgeError(status: NST_ERR_NULL_POINTER, message: "\(name) is NULL")
    }
    static func invalidHandle(_ kind: String) -> BridgeError {
        BridgeError(status: NST_ERR_INVALID_HANDLE, message: "\(kind) handle is NULL, freed or not a \(kind)")
    }
    static func invalidArgument(_ message: String) -> BridgeError {
        BridgeError(status: NST_ERR_INVALID_ARGUMENT, message: message)
    }
    static func shape(_ message: String) -> BridgeError {
        BridgeError(status: NST_ERR_SHAPE, message: message)
    }
}

extension NSTError {
    /// The `nst_status` code of this error (one per case, see swiftnst.h).
    var status: nst_status {
        switch self {
        case .invalidArgument: return NST_ERR_INVALID_ARGUMENT
        case .shape: return NST_ERR_SHAPE
        case .unknownLayer: return NST_ERR_UNKNOWN_LAYER
        case .io: return NST_ERR_IO
        case .weightsFormat: return NST_ERR_WEIGHTS_FORMAT
        case .state: return NST_ERR_STATE
        case .cancelled: return NST_ERR_CANCELLED
        case .outOfMemory: return NST_ERR_OUT_OF_MEMORY
        case .numeric: return NST_ERR_NUMERIC
        case .internalError: return NST_ERR_INTERNAL
        }
    }
}

/// Runs the body of an exported function: returns `NST_OK`, or maps whatever it threw to a status
/// and records `"<function>: <reason>"` as this thread's last error. This is the only place a
/// Swift error turns into a C status, so no export can let one escape.
///
/// The body runs with one engine worker per core (also when called from a progress callback inside
/// another session's step); a session's own calls bind its `n_threads` inside (`StyleTransferSession`).
func bridge(_ function: StaticString, _ body: () throws -> Void) -> nst_status {
    do {
        try Parallel.withThreadCount(0, body)
        return NST_OK
    } catch let error as BridgeError {
        LastError.set("\(function): \(error.message)")
        return error.status
    } catch let error as NSTError {
        LastError.set("\(function): \(error.message)")
        return error.status
    } catch {
        LastError.set("\(function): unexpected error \(error)")
        return NST_ERR_INTERNAL
    }
}

/// The thread-local message behind `nst_last_error()`: a malloc'd C string per thread, replaced on
/// each failure and freed when the thread exits, so the pointer handed out stays valid until the
/// next failing call on the same thread.
enum LastError {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()

    static func set(_ message: String) {
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, strdup(message))
        free(previous)
    }

    /// The current message, or "" when no call has failed on this thread.
    static var current: UnsafePointer<CChar> {
        guard let message = pthread_getspecific(key) else { return staticCString("") }
        return UnsafePointer(message.assumingMemoryBound(to: CChar.self))
    }
}
