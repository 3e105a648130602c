import NIOConcurrencyHelpers
import NIOCore

/// Whether one link's socket is read, when more than one thing may want it
/// stopped: reading (`autoRead`) stops when the first reason appears and
/// starts again only when the last one is gone.
///
/// Three things stop reading a link, for backpressure, so that memory stays bounded:
/// * a file body arriving faster than the disk takes it (``FileReceiver``);
/// * replies piling up because the peer asks faster than it reads the answers
///   (``ConnectionConfiguration/maximumReplyBacklog``);
/// * `async` handlers started faster than they finish
///   (``ConnectionConfiguration/maximumConcurrentHandlers``).
///
/// None alone may start reading again while another still holds it.
/// Both call it on the link's event loop; the reasons are kept under a lock
/// all the same, so that the object is plainly `Sendable`.
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

    /// The link.
    let channel: any Channel
    /// The reasons, as bits of ``Reason``.
    private let reasons = NIOLockedValueBox<UInt8>(0)

    /// A gate for `channel`, open (the channel reads as NIO's `autoRead` says, on by default).
    init(channel: any Channel) {
        self.channel = channel
    }

    /// Whether reading is stopped for `reason`.
    func isClosed(for reason: Reason) -> Bool {
        reasons.withLockedValue { $0 & reason.rawValue != 0 }
    }

    /// Stops reading for `reason` (no-op if it already holds).
    func close(for reason: Reason) {
        let first = reasons.withLockedValue { r -> Bool in
            let wasOpen = r == 0
            r |= reason.rawValue
            return wasOpen
        }
        if first { channel.setOption(.autoRead, value: false).whenFailure { _ in } }
    }

    /// Lifts `reason`; reading starts again if it was the last one.
    func open(for reason: Reason) {
        let last = reasons.withLockedValue { r -> Bool in
            guard r & reason.rawValue != 0 else { return false }
            r &= ~reason.rawValue
            return r == 0
        }
        if last { channel.setOption(.autoRead, value: true).whenSuccess { [channel] in channel.read() } }
    }
}
