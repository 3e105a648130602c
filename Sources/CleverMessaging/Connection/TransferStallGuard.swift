import NIOConcurrencyHelpers
import NIOCore

/// Performs a ``TransferWatch`` for one file transfer on one link: samples the
/// kernel's counters of the link's bytes on a timer, takes the progress the
/// transfer reports, waits for the bytes written to be acknowledged
/// (``waitDrained(orUntil:)``), and drops the link with
/// ``MessagingError/transferStalled(idle:)`` when nothing moved for the stall timeout.
///
/// Its timer holds it until ``stop()``, the stall or the link's end; nothing
/// else keeps it, and it holds the connection only while it runs.
final class TransferStallGuard: Sendable {
    private struct State {
        var watch: TransferWatch
        var stopped = false
        /// A sampling timer is armed.
        var timerArmed = false
        /// The stall, once found.
        var stalled: MessagingError?
        /// The waiter of ``waitDrained(orUntil:)``.
        var drained: EventLoopPromise<Void>?
        /// The peer answered the transfer: the drain wait succeeds, whatever ends it.
        var answered = false
    }

    private let channel: any Channel
    private let connection: Connection
    private let state: NIOLockedValueBox<State>

    private init(channel: any Channel, connection: Connection, stallTimeout: TimeAmount) {
        self.channel = channel
        self.connection = connection
        self.state = NIOLockedValueBox(State(watch: TransferWatch(stallTimeout: stallTimeout, now: channel.eventLoop.now)))
    }

    /// Starts watching a transfer on `channel` that begins now.
    /// - Parameters:
    ///   - channel: the transfer's link.
    ///   - connection: the connection the link belongs to (it drops the link on a stall).
    /// - Returns: the guard; ``stop()`` it when the transfer ends.
    static func start(on channel: any Channel, for connection: Connection) -> TransferStallGuard {
        let guard_ = TransferStallGuard(
            channel: channel,
            connection: connection,
            stallTimeout: connection.configuration.transferStallTimeout.timeAmount
        )
        let first = guard_.state.withLockedValue { s -> NIODeadline in
            s.timerArmed = true
            return guard_.channel.eventLoop.now + s.watch.sampleInterval
        }
        guard_.schedule(at: first)
        return guard_
    }

    /// The stall error, once the transfer stalled.
    var stall: MessagingError? { state.withLockedValue { $0.stalled } }

    /// The transfer made progress (a region written, a chunk received). Safe from any thread.
    func progressed() {
        let now = channel.eventLoop.now
        state.withLockedValue { $0.watch.progressed(now: now) }
    }

    /// Waits until the peer's TCP acknowledged every byte written so far, or
    /// until `answer` completes: a peer that answered the transfer has every
    /// byte of it, and the counters, sampled on a timer, would only see that
    /// at their next sample (up to 250 ms later).
    /// - Throws: ``MessagingError/transferStalled(idle:)`` when nothing moves
    ///   for the stall timeout first; ``MessagingError/connectionLost`` when the link ends first.
    func waitDrained<Answer>(orUntil answer: EventLoopFuture<Answer>? = nil) async throws(MessagingError) {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        answer?.whenComplete { _ in
            // Whatever the answer, the wait for the counters is over (a failed answer fails the caller's
            // own wait). Marked under the lock first, so that no other way out fails the wait after it.
            self.state.withLockedValue { s in
                s.answered = true
                s.stopped = true
                s.drained = nil
            }
            promise.succeed()
        }
        let sampled = channel.eventLoop.flatSubmit { [channel] in SocketOptions.transportCounters(of: channel) }
        sampled.whenComplete { result in
            let counters = (try? result.get()) ?? nil
            let outcome = self.state.withLockedValue { s -> Result<Bool, MessagingError> in
                if s.answered { return .success(true) }
                if let stalled = s.stalled { return .failure(stalled) }
                if s.stopped { return .failure(.connectionLost) }
                s.watch.expectDrain(of: counters)
                s.drained = promise
                return .success(false)
            }
            switch outcome {
            case .success(true): promise.succeed()
            case .success(false): self.check(now: self.channel.eventLoop.now)
            case .failure(let failure): promise.fail(failure)
            }
        }
        channel.closeFuture.whenComplete { _ in
            let (answered, stall) = self.state.withLockedValue { ($0.answered, $0.stalled) }
            if answered { promise.succeed() } else { promise.fail(stall ?? MessagingError.connectionLost) }
        }
        do {
            try await promise.futureResult.get()
        } catch {
            throw self.stall ?? (error as? MessagingError) ?? .connectionLost
        }
    }

    /// Ends the watch (the transfer ended, one way or the other).
    func stop() {
        let waiter = state.withLockedValue { s -> EventLoopPromise<Void>? in
            s.stopped = true
            defer { s.drained = nil }
            return s.drained
        }
        waiter?.fail(MessagingError.connectionLost)
    }

    private func schedule(at deadline: NIODeadline) {
        channel.eventLoop.scheduleTask(deadline: deadline) { [self] in
            let stopped = state.withLockedValue { s -> Bool in
                s.timerArmed = false
                return s.stopped
            }
            guard !stopped, channel.isActive else { return }
            SocketOptions.transportCounters(of: channel).whenComplete { result in
                let now = self.channel.eventLoop.now
                if case .success(let counters?) = result {
                    self.state.withLockedValue { $0.watch.sampled(counters, now: now) }
                }
                self.check(now: now)
            }
        }
    }

    /// Acts on the watch's verdict at `now`. Runs on the event loop.
    private func check(now: NIODeadline) {
        enum Step { case none, again(NIODeadline?), drained(EventLoopPromise<Void>?), stalled(TimeAmount, EventLoopPromise<Void>?) }
        let step = state.withLockedValue { s -> Step in
            guard !s.stopped, s.stalled == nil else { return .none }
            switch s.watch.check(now: now) {
            case .moving(let next):
                if s.timerArmed { return .again(nil) }
                s.timerArmed = true
                return .again(next)
            case .drained:
                guard let waiter = s.drained else { return .none }
                s.drained = nil
                s.stopped = true
                return .drained(waiter)
            case .stalled(let idle):
                s.stalled = .transferStalled(idle: Duration(idle))
                s.stopped = true
                defer { s.drained = nil }
                return .stalled(idle, s.drained)
            }
        }
        switch step {
        case .none:
            return
        case .again(let next):
            if let next { schedule(at: next) }
        case .drained(let waiter):
            waiter?.succeed()
        case .stalled(let idle, let waiter):
            let reason = DropReason.transferStalled(idle: idle)
            connection.logger.warning("dropping the link: \(reason.error)", metadata: connection.linkMetadata)
            waiter?.fail(reason.error)
            connection.dropLink(channel, for: reason)
        }
    }
}
