import NIOCore

/// Whether one link is alive, as a pure state machine: time and traffic come
/// in as inputs, and ``tick(now:)`` says whether to ping the peer or to give
/// the link up.
///
/// A link that moves bytes counts as alive, in either direction: bytes read
/// from the peer, writes that keep completing while more is waiting (a long
/// file body to a slow peer, a backlog of frames), or bytes the peer's TCP
/// acknowledged or sent, as the kernel counts them (``transportSampled(_:now:)``):
/// a body handed whole to the kernel drains from its buffers for many seconds
/// on a slow link, with no write left to complete. Only a link that has been
/// idle for a whole ``interval`` is pinged, and a link is given up only when,
/// with a ping out for at least ``timeout``, nothing moved for ``timeout``:
/// a push that takes minutes on a slow link is never cut, because its own
/// writes are the proof, while the ping waits behind it.
///
/// A write that completes at once into an empty kernel buffer proves nothing
/// (a dead peer's buffer takes it too), so ``writeCompleted(bytes:stillInFlight:now:)``
/// counts a write only when it was part of a backlog or a long one.
///
/// The peer is pinged only once it has shown that it answers pings
/// (``peerAnswersPings``: the peer speaks this library's extensions); a
/// reference peer is never pinged and never given up by this machine (TCP
/// keepalive watches it), and costs no timer.
package struct Liveness: Sendable {
    /// What the link should do now.
    package enum Action: Sendable, Hashable {
        /// Nothing.
        case none
        /// Send a ping, then report it with ``pingSent(id:now:)``.
        case ping
        /// Give the link up: nothing moved for `idle`, and the ping sent did not come back.
        case close(idle: TimeAmount)
    }

    /// A ping sent and not answered yet.
    package struct OutstandingPing: Sendable, Hashable {
        /// The request id of the ping.
        package var id: String
        /// When it went out.
        package var sent: NIODeadline
    }

    /// A completed write at least this long counts as progress even alone:
    /// one such write fills much of a socket buffer.
    package static let progressWriteBytes = 64 * 1024

    /// How long a link may be idle before it is pinged; `nil`: never pinged, never given up.
    package let interval: TimeAmount?
    /// How long nothing may move, with a ping out, before the link is given up.
    package let timeout: TimeAmount
    /// Whether the peer answers pings (it showed the extensions).
    package var peerAnswersPings: Bool
    /// When bytes last arrived from the peer.
    package private(set) var lastHeard: NIODeadline
    /// When bytes last moved in either direction.
    package private(set) var lastProgress: NIODeadline
    /// The ping waiting for its answer.
    package private(set) var ping: OutstandingPing?
    /// The kernel's counters at the last sample (`nil`: none taken yet).
    package private(set) var transport: TransportCounters?

    /// A link that came up at `now`.
    /// - Parameters:
    ///   - interval: idle time before a ping; `nil` turns the machine off.
    ///   - timeout: time without progress, with a ping out, before the link is given up.
    ///   - peerAnswersPings: whether the peer is known to answer pings.
    ///   - now: when the link came up (counts as progress).
    package init(interval: TimeAmount?, timeout: TimeAmount, peerAnswersPings: Bool = false, now: NIODeadline) {
        self.interval = interval
        self.timeout = timeout
        self.peerAnswersPings = peerAnswersPings
        self.lastHeard = now
        self.lastProgress = now
    }

    /// Bytes arrived from the peer.
    package mutating func bytesRead(now: NIODeadline) {
        if now > lastHeard { lastHeard = now }
        if now > lastProgress { lastProgress = now }
    }

    /// A write to the peer completed.
    /// - Parameters:
    ///   - bytes: the bytes of that write.
    ///   - stillInFlight: the bytes handed to the link and not written yet, after it.
    ///   - now: when it completed.
    package mutating func writeCompleted(bytes: Int, stillInFlight: Int, now: NIODeadline) {
        guard stillInFlight > 0 || bytes >= Self.progressWriteBytes else { return }
        outboundProgress(now: now)
    }

    /// Bytes the peer had to read for this to happen went out (a file region written, a slice of a long write).
    package mutating func outboundProgress(now: NIODeadline) {
        if now > lastProgress { lastProgress = now }
    }

    /// The kernel's TCP counters were read: bytes the peer acknowledged or sent
    /// since the last sample are progress (the first sample only sets the base
    /// of the byte counters), and so is the last segment the peer's TCP sent,
    /// at the time it came (``TransportCounters/sincePeerSegment``): a link
    /// whose frames the peer acknowledged since it was last read from (a
    /// request asked of every drone at once) is not pinged behind them.
    package mutating func transportSampled(_ counters: TransportCounters, now: NIODeadline) {
        if let transport, counters.moved(since: transport) { outboundProgress(now: now) }
        if let since = counters.sincePeerSegment, since >= .zero { outboundProgress(now: now - since) }
        transport = counters
    }

    /// A ping went out.
    package mutating func pingSent(id: String, now: NIODeadline) {
        ping = OutstandingPing(id: id, sent: now)
    }

    /// The ping was answered, or failed with its link: the next may go when the link is idle again.
    package mutating func pingSettled() {
        ping = nil
    }

    /// Decides what to do at `now`.
    /// - Returns: ``Action/ping`` when the link was idle for ``interval`` and no
    ///   ping is out, ``Action/close(idle:)`` when a ping is out and nothing moved
    ///   for ``timeout``, else ``Action/none``.
    package mutating func tick(now: NIODeadline) -> Action {
        guard let interval, peerAnswersPings else { return .none }
        if let ping {
            guard now >= Self.later(lastProgress, ping.sent) + timeout else { return .none }
            self.ping = nil
            return .close(idle: now - lastProgress)
        }
        return now >= lastProgress + interval ? .ping : .none
    }

    /// Whether the kernel's counters are worth reading before ``tick(now:)``:
    /// only when the link, with no progress seen since, would be pinged or
    /// given up now. When progress since keeps it alive, the counters are not
    /// read; when that progress was bytes read, the base they would be
    /// compared with is dropped, so that the next sample sets a new base
    /// instead of counting old traffic as progress made now. (Writes that
    /// keep completing leave the base: the kernel's counters go on telling
    /// whether what they hand over drains.)
    /// - Parameter now: the present.
    /// - Returns: `true`: read the counters (``transportSampled(_:now:)``) and tick.
    package mutating func wantsTransportSample(now: NIODeadline) -> Bool {
        guard let wake = nextWake(now: now) else { return false }
        guard wake <= now else {
            if lastHeard >= lastProgress { transport = nil }
            return false
        }
        return true
    }

    /// When ``tick(now:)`` may next have something to do; `nil`: not until
    /// something changes (pings are off, or the peer is not known to answer
    /// them: the link arms the machine again when the peer shows the extensions).
    /// - Parameter now: the present.
    package func nextWake(now: NIODeadline) -> NIODeadline? {
        guard let interval, peerAnswersPings else { return nil }
        if let ping { return Self.later(lastProgress, ping.sent) + timeout }
        return lastProgress + interval
    }

    private static func later(_ a: NIODeadline, _ b: NIODeadline) -> NIODeadline { a > b ? a : b }
}
