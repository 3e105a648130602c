import Logging
import NIOCore

extension Connection {
    // MARK: - Liveness

    /// Starts watching an open link (see ``Liveness``): a per-link timer pings
    /// the peer when the link is idle and gives the link up, with
    /// ``MessagingError/peerUnresponsive(idle:)``, when nothing moved, with a
    /// ping out, for ``ConnectionConfiguration/pingTimeout``.
    /// Runs on the event loop, under no lock.
    func startLiveness(now: NIODeadline) {
        guard let interval = configuration.pingInterval, configuration.announceExtensions else { return }
        state.withLockedValue { s in
            s.liveness = Liveness(
                interval: interval.timeAmount,
                timeout: configuration.pingTimeout.timeAmount,
                peerAnswersPings: s.peerSpeaksExtensions,
                now: now
            )
            s.livenessTimer.disarm()
        }
        // The kernel's counters are read at the first wake that needs them (the first only sets a base).
        armLiveness(now: now)
    }

    /// Stops watching the link (it went down, or the connection closes). Called under the state lock.
    func stopLiveness(_ s: inout State) {
        s.liveness = nil
        s.livenessTimer.disarm()
    }

    /// Arms the link's timer for the machine's next wake, unless a timer that
    /// fires no later is armed already. Runs on the event loop.
    func armLiveness(now: NIODeadline) {
        let armed = state.withLockedValue { s -> (LinkTimerTarget, NIODeadline)? in
            guard let live = s.liveness, let target = s.linkTarget, let wake = live.nextWake(now: now),
                s.livenessTimer.arm(wake)
            else { return nil }
            return (target, wake)
        }
        if let (target, wake) = armed { scheduleLinkTimer(wake, target: target, kind: .liveness) }
    }

    /// A link timer fired: when the liveness timer is due, reads the kernel's counters of the link's bytes
    /// (bytes the peer's TCP acknowledged or sent are progress, though no write
    /// completed and nothing was read: a body draining from the kernel's
    /// buffers), asks the machine what to do, does it, and arms the next timer.
    /// Runs on the event loop.
    func livenessTimerFired(now: NIODeadline) {
        enum Check { case none, rearm, sample(any Channel) }
        let check = state.withLockedValue { s -> Check in
            guard s.liveness != nil, s.livenessTimer.fire(now: now), let channel = s.channel else { return .none }
            // Bytes read since the last wake kept the link alive: no system call, only the next wake.
            return s.liveness!.wantsTransportSample(now: now) ? .sample(channel) : .rearm
        }
        let channel: any Channel
        switch check {
        case .none: return
        case .rearm:
            armLiveness(now: now)
            return
        case .sample(let link): channel = link
        }
        SocketOptions.transportCounters(of: channel).whenComplete { result in
            let counters = (try? result.get()) ?? nil
            self.livenessDecide(channel: channel, counters: counters, now: now)
        }
    }

    /// Feeds the counters to the machine and does what it decides. Runs on the event loop.
    private func livenessDecide(channel: any Channel, counters: TransportCounters?, now: NIODeadline) {
        let action = state.withLockedValue { s -> Liveness.Action? in
            guard s.liveness != nil, let link = s.channel, link === channel else { return nil }
            s.liveness!.peerAnswersPings = s.peerSpeaksExtensions
            if let counters { s.liveness!.transportSampled(counters, now: now) }
            return s.liveness!.tick(now: now)
        }
        guard let action else { return }
        switch action {
        case .none:
            break
        case .ping:
            sendPing(now: now)
        case .close(let idle):
            let reason = DropReason.peerUnresponsive(idle: idle)
            logger.warning("dropping the link: \(reason.error)", metadata: linkMetadata)
            dropLink(channel, for: reason)
            return
        }
        armLiveness(now: now)
    }

    /// Sends a ping (a request the peer of this library answers `true`; never resent).
    private func sendPing(now: NIODeadline) {
        let target = state.withLockedValue { $0.linkTarget }
        do {
            let id = try startRequest(
                ExtensionHeader.ping,
                args: [],
                kwargs: [:],
                completion: .callback { result in
                    // Answered, or failed with the link: the next ping may go when the link is idle
                    // again. The target, not the connection, is held: the link's end clears it.
                    guard let connection = target?.connection else { return }
                    if case .success = result { connection.logger.trace("ping answered", metadata: connection.linkMetadata) }
                    connection.pingSettled()
                },
                timeout: nil,
                expires: false
            )
            state.withLockedValue { s in
                s.pending.setResendable(id: id, false)
                if s.pending.contains(id: id) { s.liveness?.pingSent(id: id, now: now) }
            }
        } catch {
            logger.debug("cannot ping: \(error)", metadata: linkMetadata)
        }
    }

    /// The ping came back: the next one is due an interval after the link went idle.
    private func pingSettled() {
        state.withLockedValue { $0.liveness?.pingSettled() }
        if eventLoop.inEventLoop {
            armLiveness(now: self.eventLoop.now)
        } else {
            eventLoop.execute { self.armLiveness(now: self.eventLoop.now) }
        }
    }
}
