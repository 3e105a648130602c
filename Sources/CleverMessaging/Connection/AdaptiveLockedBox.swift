#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a mutex that spins briefly before it sleeps: the lock of a
/// connection's state, which a caller's thread (queueing frames) and the
/// event loop (handling each frame that arrives) both take for a few hundred
/// nanoseconds at a time, many thousand times a second.
///
/// With a plain mutex, every time the two meet, one thread sleeps in the
/// kernel and the other makes a system call to wake it. An adaptive mutex
/// (glibc's `PTHREAD_MUTEX_ADAPTIVE_NP`) first retries for a short while,
/// which the short hold times mostly make enough: a pipelined run of 500,000
/// requests made 30–33 k `futex` calls with a plain mutex, 12–13 k with this
/// one. Elsewhere (not glibc) it is a plain mutex.
final class AdaptiveLockedBox<Value> {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// The value, in memory of its own (as `NIOLockedValueBox` keeps it), so
    /// that reaching it needs no dynamic exclusivity check: the mutex is the check.
    private let value: UnsafeMutablePointer<Value>

    /// Creates a box holding `value`.
    init(_ value: Value) {
        self.value = .allocate(capacity: 1)
        self.value.initialize(to: value)
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        #if canImport(Glibc)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        #endif
        let created = pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
        precondition(created == 0, "pthread_mutex_init failed: \(created)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
        value.deinitialize(count: 1)
        value.deallocate()
    }

    /// Runs `body` with the value, holding the lock.
    @inline(__always)
    func withLockedValue<T, E: Error>(_ body: (inout Value) throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value.pointee)
    }
}

/// `@unchecked Sendable` (for a `Sendable` value, as `NIOLockedValueBox`): the
/// value is only ever reached inside ``AdaptiveLockedBox/withLockedValue(_:)``,
/// between `pthread_mutex_lock` and `pthread_mutex_unlock` of the box's own
/// mutex, so no two threads touch it at once; the mutex and the value live at
/// fixed addresses allocated by the box, never moved, and are destroyed only
/// in `deinit`, when no thread can hold a reference any more.
extension AdaptiveLockedBox: @unchecked Sendable where Value: Sendable {}
