import NIOCore

/// Something a ``LinkTimerQueue`` wakes: a link's timers, or a connection's
/// request timeouts.
protocol LinkWakeTarget: AnyObject, Sendable {
    /// A deadline it asked for has come (or passed); it checks its own deadlines.
    /// - Parameter now: the present.
    func wake(now: NIODeadline)
}

/// The timers of every link on one event loop, served by one NIO timer.
///
/// Each link (handshake deadline, liveness check, owed acknowledgement) and
/// each connection's request timeouts ask this queue for a wake-up instead of
/// scheduling an NIO task of their own: a ``WakeQueue`` keeps them in order,
/// and one scheduled callback stands for its earliest deadline. With thousands
/// of links on a loop, a wake-up then costs O(1) instead of an insertion into,
/// and a removal from, the event loop's heap of scheduled tasks.
///
/// Used on its event loop only (a call from elsewhere hops onto it).
final class LinkTimerQueue: NIOScheduledCallbackHandler, Sendable {
    /// The loop whose links it serves.
    let eventLoop: any EventLoop

    private struct State {
        var wakes = WakeQueue<any LinkWakeTarget>()
        /// The deadlines of the NIO callbacks scheduled and not fired yet,
        /// earliest first. A callback is never cancelled (that searches the
        /// event loop's whole heap): one a nearer deadline overtook fires
        /// later and finds little or nothing due. A new one is scheduled only
        /// when every outstanding one comes later than the earliest wake-up,
        /// so they stay few.
        var scheduled: [NIODeadline] = []
        /// Whether wake-ups are being delivered (the callback arms once they are).
        var firing = false
    }

    private let state: NIOLoopBoundBox<State>

    /// A queue for the links of `eventLoop`.
    /// - Parameter eventLoop: the event loop.
    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        self.state = .makeBoxSendingValue(State(), eventLoop: eventLoop)
    }

    /// Wakes `target` at `deadline` (or soon after).
    /// - Parameters:
    ///   - target: whom to wake.
    ///   - deadline: when.
    ///   - kind: what for.
    func schedule(_ target: any LinkWakeTarget, at deadline: NIODeadline, kind: WakeQueue<any LinkWakeTarget>.Kind) {
        guard eventLoop.inEventLoop else {
            eventLoop.execute { self.schedule(target, at: deadline, kind: kind) }
            return
        }
        state.value.wakes.insert(target, at: deadline, kind: kind)
        if !state.value.firing { arm() }
    }

    /// How many wake-ups wait (for tests and statistics).
    var count: Int { state.value.wakes.count }

    /// How many NIO callbacks are outstanding (for tests).
    var callbacksScheduled: Int { state.value.scheduled.count }

    /// Schedules the NIO callback for the earliest deadline, unless one is
    /// scheduled for it or earlier already.
    private func arm() {
        guard let next = state.value.wakes.next else { return }
        if let first = state.value.scheduled.first, first <= next { return }
        do {
            try eventLoop.scheduleCallback(at: next, handler: self)
            state.value.scheduled.insert(next, at: 0)
        } catch {
            // The event loop is shutting down: its links go with it.
        }
    }

    /// The NIO callback: wakes everyone due, then arms for the next deadline.
    func handleScheduledCallback(eventLoop: some EventLoop) {
        let now = eventLoop.now
        // This callback, and any other whose time has come (it fires next, and finds nothing).
        state.value.scheduled.removeAll { $0 <= now }
        state.value.firing = true
        let due = state.value.wakes.removeDue(now: now)
        for target in due { target.wake(now: now) }
        state.value.firing = false
        arm()
    }
}
