import NIOCore

/// Detects a peer of this library's own kind: one whose frames carry
/// the header key `x-clever`. Such a peer gets error
/// replies, file acknowledgements, digest trailers and pings; a reference peer
/// never sees an extension frame (PROTOCOL.md section 6).
///
/// A reference peer announces nothing and may wait for this side to speak
/// first, so the stage must not wait for the marker: by default it passes at
/// once (``Factory/init(wait:)`` with `.zero`), and the link keeps looking at
/// every frame that arrives later with ``shows(_:)``. Given a `wait`, it holds
/// the link until the peer's first frame or until `wait` has passed, whichever
/// comes first, and passes either way: later stages then know
/// (``HandshakeContext/peerSpeaksExtensions``) whether they may send extension
/// frames. The peer's first frame is not consumed: it is dispatched once the
/// link is open.
public struct CapabilityStage: HandshakeStage {
    /// Makes the stage for each link.
    public struct Factory: HandshakeStageFactory {
        /// How long to wait for the peer's first frame.
        public var wait: Duration

        /// A factory.
        /// - Parameter wait: how long to wait for the peer's first frame
        ///   (default `.zero`: pass at once, never delay a link).
        public init(wait: Duration = .zero) {
            self.wait = wait
        }

        /// A stage for a new link.
        public func makeStage(for link: HandshakeLink) -> any HandshakeStage {
            CapabilityStage(wait: wait)
        }
    }

    /// Whether a header shows that its sender speaks this library's extensions.
    /// - Parameter header: a frame's header.
    /// - Returns: whether it carries the `x-clever` header key.
    @inline(__always)
    public static func shows(_ header: FrameHeader) -> Bool {
        !header.extra.isEmpty && header.extra[ExtensionHeader.capabilities] != nil
    }

    /// How long to wait for the peer's first frame.
    public let wait: Duration

    /// A stage.
    /// - Parameter wait: how long to wait for the peer's first frame.
    public init(wait: Duration = .zero) {
        self.wait = wait
    }

    /// `"capabilities"`.
    public var name: String { "capabilities" }

    /// The wait, when there is one.
    public var timeout: Duration? { wait > .zero ? wait : nil }

    /// Passes at once unless asked to wait (or the peer already showed the marker).
    public mutating func start(context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict {
        wait > .zero && !context.peerSpeaksExtensions ? .continue : .pass
    }

    /// The peer's first frame: passes (the link looked at its header already); the frame is held, not consumed.
    public mutating func receive(_ frame: Frame, context: inout HandshakeContext, now: NIODeadline) -> (verdict: HandshakeVerdict, consumed: Bool) {
        (.pass, false)
    }

    /// The wait is over without a frame: a peer that says nothing first is taken as a reference peer
    /// until one of its later frames carries the marker (``shows(_:)``).
    public mutating func timedOut(context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict {
        .pass
    }
}
