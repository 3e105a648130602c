import NIOConcurrencyHelpers

/// Bounds how many connection attempts are in flight at once, across every
/// ``MessagingClient`` that shares it.
///
/// Thousands of clients that connect at the same moment (a simulated swarm)
/// overflow the server's accept queue: the kernel drops their SYNs and they
/// wait a second or more to retry. Sharing a limiter paces them: an attempt
/// starts when an earlier one has finished (connected or failed), so the
/// server sees a steady stream it can accept.
public final class ConnectLimiter: Sendable {
    /// How many attempts may be in flight at once.
    public let maximumInFlight: Int

    private struct State {
        var inFlight = 0
        var waiters: [(key: Int, continuation: CheckedContinuation<Void, any Error>)] = []
        var waitersStart = 0
        var nextKey = 0
        /// Keys whose task was cancelled before it queued its continuation: it must not queue.
        var cancelledEarly: Set<Int> = []
    }

    private let state = NIOLockedValueBox(State())

    /// How many attempts are running now.
    public var inFlight: Int { state.withLockedValue { $0.inFlight } }

    /// How many attempts wait for their turn.
    var waiting: Int { state.withLockedValue { s in s.waiters[s.waitersStart...].count { $0.key >= 0 } } }

    /// Woken when attempts start, queue or finish (for tests that wait on them).
    let changes = StateWaiters()

    /// Creates a limiter.
    /// - Parameter maximumInFlight: how many attempts at once (at least 1).
    public init(maximumInFlight: Int) {
        self.maximumInFlight = max(1, maximumInFlight)
    }

    /// Runs `attempt` once fewer than ``maximumInFlight`` attempts are running.
    /// - Parameter attempt: the connection attempt.
    /// - Returns: what `attempt` returns.
    /// - Throws: what `attempt` throws, or `CancellationError` when the task is cancelled while waiting.
    public func run<T: Sendable>(_ attempt: () async throws -> T) async throws -> T {
        try await acquire()
        changes.changed()
        defer {
            release()
            changes.changed()
        }
        return try await attempt()
    }

    private func acquire() async throws {
        let key = state.withLockedValue { s -> Int? in
            if s.inFlight < maximumInFlight && s.waitersStart == s.waiters.count {
                s.inFlight += 1
                return nil
            }
            s.nextKey += 1
            return s.nextKey
        }
        guard let key else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let admitted = state.withLockedValue { s -> Bool? in
                    // Cancelled before it got here: the handler found nothing to resume.
                    if s.cancelledEarly.remove(key) != nil { return nil }
                    // A permit may have been released between the two locks.
                    if s.inFlight < maximumInFlight && s.waitersStart == s.waiters.count {
                        s.inFlight += 1
                        return true
                    }
                    s.waiters.append((key, continuation))
                    return false
                }
                switch admitted {
                case .none: continuation.resume(throwing: CancellationError())
                case .some(true): continuation.resume()
                case .some(false): changes.changed()
                }
            }
        } onCancel: {
            let cancelled = state.withLockedValue { s -> CheckedContinuation<Void, any Error>? in
                guard let index = s.waiters[s.waitersStart...].firstIndex(where: { $0.key == key }) else {
                    // Not queued yet (the task was cancelled before or while it started
                    // waiting), or already admitted: the queueing step checks this mark.
                    s.cancelledEarly.insert(key)
                    return nil
                }
                // Leave a hole rather than shifting the queue; `release` skips it.
                let continuation = s.waiters[index].continuation
                s.waiters[index].key = -1
                return continuation
            }
            cancelled?.resume(throwing: CancellationError())
        }
        // A cancellation that came after the permit was granted left its mark unused.
        state.withLockedValue { _ = $0.cancelledEarly.remove(key) }
    }

    private func release() {
        let next = state.withLockedValue { s -> CheckedContinuation<Void, any Error>? in
            while s.waitersStart < s.waiters.count {
                let waiter = s.waiters[s.waitersStart]
                s.waitersStart += 1
                if s.waitersStart == s.waiters.count {
                    s.waiters.removeAll(keepingCapacity: true)
                    s.waitersStart = 0
                }
                // The permit passes straight to the next live waiter.
                if waiter.key >= 0 { return waiter.continuation }
            }
            s.inFlight -= 1
            return nil
        }
        next?.resume()
    }
}
