import Foundation

/// The set of live handles given to C callers. A handle is the address of the object it names;
/// the registry holds the strong reference, so a handle is valid exactly while it is registered.
///
/// Looking a handle up checks both that it is live and that it names the expected type, so a
/// NULL, freed, foreign or wrong-kind pointer is reported instead of dereferenced. A lookup
/// returns a strong reference: an object freed by another thread mid-call lives until the call ends.
final class HandleRegistry: @unchecked Sendable {
    static let shared = HandleRegistry()

    private let lock = NSLock()
    private var live: [UInt: AnyObject] = [:]

    /// Registers `object` and returns its handle.
    func register(_ object: AnyObject) -> OpaquePointer {
        let address = Unmanaged.passUnretained(object).toOpaque()
        lock.withLock { live[UInt(bitPattern: address)] = object }
        return OpaquePointer(address)
    }

    /// The live object of type `T` named by `handle`, or nil.
    func lookup<T: AnyObject>(_ handle: OpaquePointer?, as type: T.Type) -> T? {
        guard let handle else { return nil }
        return lock.withLock { live[UInt(bitPattern: UnsafeRawPointer(handle))] as? T }
    }

    /// Unregisters `handle` if it is a live `T`; anything else (NULL, dead, another kind) is ignored.
    func remove<T: AnyObject>(_ handle: OpaquePointer?, as type: T.Type) {
        guard let handle else { return }
        let key = UInt(bitPattern: UnsafeRawPointer(handle))
        // Release outside the lock: deinit may free large buffers.
        let removed: AnyObject? = lock.withLock {
            guard live[key] is T else { return nil }
            return live.removeValue(forKey: key)
        }
        _ = removed
    }

    /// Number of live handles (for leak tests).
    var count: Int { lock.withLock { live.count } }
}
