import NIOConcurrencyHelpers
import NIOCore

/// Whether one link's socket is read, when more than one thing may want it
/// stopped: the link is read exactly when no reason holds.
///
/// Three things stop reading a link, for backpressure, so that memory stays bounded:
/// * a file body arriving faster than the disk takes it (``FileReceiver``);
/// * replies piling up because the peer asks faster than it reads the answers
///   (``ConnectionConfiguration/maximumReplyBacklog``);
/// * `async` handlers started faster than they finish
///   (``ConnectionConfiguration/maximumConcurrentHandlers``).
///
/// None alone may start reading again while another still holds it.
///
/// Reasons may be set and cleared from any thread (a handler task ends on the
/// cooperative pool, a write completes on the event loop), and a caller sets
/// them under its own lock, together with its own decision, with ``hold(_:_:)``.
/// The channel's `autoRead` is then brought in line on the event loop by
/// ``apply()``, which reads the reasons as they are by then: whatever order the
/// calls arrive in, the last one leaves the channel reading exactly when no
/// reason holds.
final class ReadGate: Sendable {
    /// Why reading is stopped.
    enum Reason: UInt8 {
        /// A file body waits for the disk.
        case fileBacklog = 1
        /// Replies wait for the peer to read them.
        case replyBacklog = 2
        /// Too many handler tasks are running.
        case handlerBacklog = 4
    }

    private struct Bits {
        /// The reasons that hold, as bits of ``Reason``.
        var reasons: UInt8 = 0
        /// What `autoRead` was last set to (on the event loop); NIO's default is on.
        var reading = true
    }

    /// The link.
    let channel: any Channel
    private let bits = NIOLockedValueBox(Bits())

    /// A gate for `channel`, open (the channel reads, as NIO's default `autoRead` does).
    init(channel: any Channel) {
        self.channel = channel
    }

    /// Whether `reason` holds.
    func isClosed(for reason: Reason) -> Bool {
        bits.withLockedValue { $0.reasons & reason.rawValue != 0 }
    }

    /// Sets (`true`) or clears `reason`, without touching the channel: call
    /// ``apply()`` afterwards, outside the caller's own lock.
    func hold(_ reason: Reason, _ holds: Bool) {
        bits.withLockedValue { b in
            if holds { b.reasons |= reason.rawValue } else { b.reasons &= ~reason.rawValue }
        }
    }

    /// Stops reading for `reason`.
    func close(for reason: Reason) {
        hold(reason, true)
        apply()
    }

    /// Lifts `reason`; reading starts again if no other reason holds.
    func open(for reason: Reason) {
        hold(reason, false)
        apply()
    }

    /// Makes the channel read exactly when no reason holds (on its event loop).
    func apply() {
        if channel.eventLoop.inEventLoop {
            applyOnLoop()
        } else {
            channel.eventLoop.execute { self.applyOnLoop() }
        }
    }

    private func applyOnLoop() {
        let change = bits.withLockedValue { b -> Bool? in
            let wanted = b.reasons == 0
            guard wanted != b.reading else { return nil }
            b.reading = wanted
            return wanted
        }
        guard let reading = change else { return }
        if reading {
            channel.setOption(.autoRead, value: true).whenSuccess { [channel] in channel.read() }
        } else {
            channel.setOption(.autoRead, value: false).whenFailure { _ in }
        }
    }
}
