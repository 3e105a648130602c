/// How many frames a peer may send on one link
/// (``ConnectionConfiguration/inboundFrameLimit``): on average at most
/// ``framesPerSecond``, in bursts of at most ``burst``. A link that sends more
/// is closed, and the warning says so:
/// `copter-3 (127.0.0.1:5123) sent more than 5000 frames/s; link closed`.
public struct FrameRateLimit: Sendable, Hashable {
    /// The sustained rate allowed.
    public var framesPerSecond: Int
    /// The most frames allowed at once, after a quiet while.
    public var burst: Int

    /// A limit.
    /// - Parameters:
    ///   - framesPerSecond: the sustained rate allowed (at least 1).
    ///   - burst: the burst allowed (default: one second's worth, and at least 1).
    public init(framesPerSecond: Int, burst: Int? = nil) {
        self.framesPerSecond = max(1, framesPerSecond)
        self.burst = max(1, burst ?? framesPerSecond)
    }
}
