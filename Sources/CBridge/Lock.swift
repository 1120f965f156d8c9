import Glibc

/// A mutex (a default pthread mutex, as `NSLock` is on Linux) for the bridge's handle registry and
/// sessions. Not `Synchronization.Mutex`: that one owns the guarded state and wants the closure's
/// result `sending`, while these locks guard calls that return objects shared with the session.
final class Lock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` holding the lock (waiting until it is free); the lock is not recursive.
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
