import NIOCore

/// Whether one file transfer still moves, as a pure state machine: progress
/// and the kernel's TCP counters come in, with the time, and ``check(now:)``
/// says whether to look again later, whether the bytes written are all with
/// the peer's TCP, or whether the transfer stalled.
///
/// A transfer's deadline runs from its last progress, never from its start: a
/// 4 MiB body that takes a minute on a slow link is fine as long as bytes
/// keep moving, and one that stops moving fails after ``stallTimeout``
/// whatever its size. Progress is a region of the body written, a chunk
/// received, or the kernel's counters showing bytes acknowledged by the peer
/// or received from it (``sampled(_:now:)``).
///
/// After the last byte was written, ``expectDrain(of:)`` sets the target:
/// the transfer is ``Verdict/drained`` once the peer's TCP acknowledged every
/// byte handed to TCP at that moment. A push's acknowledgement timer starts
/// then, not while the body still waits in the kernel's buffers.
package struct TransferWatch: Sendable {
    /// What to do after a ``check(now:)``.
    package enum Verdict: Sendable, Hashable {
        /// The transfer moves: check again at `next` (sampling the counters first).
        case moving(next: NIODeadline)
        /// Nothing moved for `idle`, at least the stall timeout.
        case stalled(idle: TimeAmount)
        /// Every byte written before ``expectDrain(of:)`` was acknowledged by the peer's TCP.
        case drained
    }

    /// How long the transfer may make no progress.
    package let stallTimeout: TimeAmount
    /// When it last made progress.
    package private(set) var lastProgress: NIODeadline
    /// The counters at the last sample.
    package private(set) var counters: TransportCounters?
    /// The acknowledged bytes that mean drained (`nil`: not draining yet).
    package private(set) var drainTarget: UInt64?
    /// Draining was asked with no counters to go by: drained at once.
    private var drainedBlind = false

    /// A transfer that starts at `now`.
    package init(stallTimeout: TimeAmount, now: NIODeadline) {
        self.stallTimeout = stallTimeout
        self.lastProgress = now
    }

    /// How often the counters are sampled: an eighth of the stall timeout,
    /// between 20 ms and 250 ms.
    package var sampleInterval: TimeAmount {
        min(max(.nanoseconds(stallTimeout.nanoseconds / 8), .milliseconds(20)), .milliseconds(250))
    }

    /// The transfer made progress the link saw (a write completed, bytes read).
    package mutating func progressed(now: NIODeadline) {
        if now > lastProgress { lastProgress = now }
    }

    /// The kernel's counters were read; bytes moving since the last sample are progress.
    package mutating func sampled(_ sample: TransportCounters, now: NIODeadline) {
        if let counters, sample.moved(since: counters) { progressed(now: now) }
        counters = sample
    }

    /// The last byte was written: the transfer is drained once the peer's TCP
    /// acknowledged everything handed to TCP in `sample` (`nil`: the counters
    /// cannot be read, and the writes completing is all there is to go by).
    package mutating func expectDrain(of sample: TransportCounters?) {
        guard let sample else {
            drainedBlind = true
            return
        }
        if counters == nil { counters = sample }
        drainTarget = sample.bytesHandedToTCP
    }

    /// Decides at `now`.
    package func check(now: NIODeadline) -> Verdict {
        if drainedBlind { return .drained }
        if let drainTarget, let counters, counters.bytesAcknowledged >= drainTarget { return .drained }
        let deadline = lastProgress + stallTimeout
        if now >= deadline { return .stalled(idle: now - lastProgress) }
        return .moving(next: min(deadline, now + sampleInterval))
    }
}
