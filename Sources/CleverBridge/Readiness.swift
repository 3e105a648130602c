import NIOConcurrencyHelpers

/// A moment that tasks wait for, such as a role's subscriptions being at the
/// server: a wait returns once ``signal()`` was called, at once when it was
/// already, until ``reset()``.
final class Readiness: Sendable {
    private let state = NIOLockedValueBox<(ready: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// Waits until the moment came.
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLockedValue { state -> Bool in
                if state.ready { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// The moment came: every waiter goes on, and so does every later wait until ``reset()``.
    func signal() {
        let waiters = state.withLockedValue { state in
            state.ready = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The moment is over (the role stopped): later waits wait for the next ``signal()``.
    func reset() {
        state.withLockedValue { $0.ready = false }
    }
}
