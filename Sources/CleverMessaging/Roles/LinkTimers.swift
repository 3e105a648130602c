import NIOConcurrencyHelpers
import NIOCore

/// The timers of many connections, one NIO timer per event loop.
///
/// Every link has deadlines: its handshake's, its next liveness check, an
/// owed acknowledgement, its requests' timeouts. A ``MessagingServer`` serves
/// all of its links' deadlines on each event loop from one queue and one
/// scheduled callback, so that a fleet of thousands of links does not fill
/// the event loop's heap of scheduled tasks. Clients that run by the
/// thousand in one process (a simulated swarm) share one `LinkTimers` for the
/// same gain: pass it to each ``MessagingClient``.
public final class LinkTimers: Sendable {
    private let queues = NIOLockedValueBox([ObjectIdentifier: LinkTimerQueue]())

    /// Timers to share.
    public init() {}

    /// The queue of `eventLoop`'s links, made at its first use.
    /// - Parameter eventLoop: an event loop.
    /// - Returns: its queue.
    func queue(for eventLoop: any EventLoop) -> LinkTimerQueue {
        queues.withLockedValue { queues in
            let key = ObjectIdentifier(eventLoop)
            if let queue = queues[key] { return queue }
            let queue = LinkTimerQueue(eventLoop: eventLoop)
            queues[key] = queue
            return queue
        }
    }
}
