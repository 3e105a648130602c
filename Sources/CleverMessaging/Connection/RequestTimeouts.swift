import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The timer that fails a connection's requests past their deadline.
///
/// It is an object of its own, held only by its ``Connection``, so that the
/// timers it schedules can hold it weakly: a timer that holds the connection
/// weakly instead gives every connection a weak-reference side table, and
/// then every retain and release of a connection (thousands for one request
/// to all) takes the runtime's slow path. When the connection goes, this goes
/// with it, and its pending timers find nothing to do.
final class RequestTimeouts: Sendable {
    /// The state of the connection (the same lock and value).
    private let state: AdaptiveLockedBox<Connection.State>
    /// Where its wake-ups are kept: the event loop's ``LinkTimerQueue``.
    private let timerQueue: LinkTimerQueue
    private let logger: Logger
    /// Where timeouts are counted, if anywhere.
    private let metrics: LinkMetrics?

    init(state: AdaptiveLockedBox<Connection.State>, timerQueue: LinkTimerQueue, logger: Logger, metrics: LinkMetrics? = nil) {
        self.state = state
        self.timerQueue = timerQueue
        self.logger = logger
        self.metrics = metrics
    }

    /// Arms the timer for the earliest live deadline, unless the armed timer
    /// already fires before it: a timer that fires with nothing expired just re-arms.
    ///
    /// A wake-up that an earlier deadline replaces is not cancelled: it comes
    /// later, holds no strong reference, and only expires what is due.
    /// Runs on the event loop.
    func arm() {
        let armed = state.withLockedValue { s -> (NIODeadline, RequestTimerCallback)? in
            s.requestTimerArming = false
            guard let next = s.pending.nextDeadline(), s.requestTimer.arm(next) else { return nil }
            if s.requestTimerCallback == nil { s.requestTimerCallback = RequestTimerCallback(self) }
            return (next, s.requestTimerCallback!)
        }
        guard let (deadline, callback) = armed else { return }
        timerQueue.schedule(callback, at: deadline, kind: .requests)
    }

    /// Fails every request whose deadline passed; the current timer then re-arms. Runs on the event loop.
    fileprivate func fire(now: NIODeadline) {
        let (expired, due) = state.withLockedValue { s -> ([(id: String, entry: PendingRequests.Entry)], Bool) in
            let due = s.requestTimer.fire(now: now)
            return (s.pending.expired(now: now), due)
        }
        metrics?.timedOut(expired.count)
        for (id, entry) in expired {
            logger.debug("request \(id) for \(entry.requestedValue) timed out")
            entry.finish(.failure(.timedOut(requestedValue: entry.requestedValue, requestID: id, timeout: Duration(entry.timeout ?? .zero))))
        }
        if due { arm() }
    }
}

/// What the request timers of a connection call when they fire: its
/// ``RequestTimeouts``, held weakly, so that a pending timer keeps nothing
/// of a connection that is gone. One per connection, made at its first timer.
final class RequestTimerCallback: LinkWakeTarget {
    private weak let timeouts: RequestTimeouts?

    init(_ timeouts: RequestTimeouts) {
        self.timeouts = timeouts
    }

    /// The earliest request deadline came.
    func wake(now: NIODeadline) {
        timeouts?.fire(now: now)
    }
}
