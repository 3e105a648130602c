import Logging
import NIOCore
import OrderedCollections

/// A step a new link must pass before it is open.
///
/// A link that comes up is held in its handshake: nothing that arrives is
/// dispatched to handlers and nothing queued by the user is written until
/// every stage of ``ConnectionConfiguration/handshake`` has passed, in order.
/// A stage may send frames (``HandshakeContext/send(_:)``,
/// ``HandshakeContext/sendRequest(_:args:kwargs:)``), sees the frames that
/// arrive while it runs, and answers with a ``HandshakeVerdict``. A stage that
/// fails, or that has not passed by its ``timeout`` (or the whole handshake by
/// ``ConnectionConfiguration/handshakeTimeout``), closes the link with a
/// ``HandshakeFailure``.
///
/// Stages are made fresh for every link by a ``HandshakeStageFactory`` and
/// run on the link's event loop, one call at a time: they need not be
/// `Sendable`, and time comes in as the `now` argument (never read a clock
/// in a stage), so a stage is tested without a network or a clock.
///
/// A stage must never send a reference peer a frame it does not understand
/// (PROTOCOL.md section 6): a stage that needs extension frames checks
/// ``HandshakeContext/peerSpeaksExtensions`` (see ``CapabilityStage``), or is
/// only configured where every peer is known to be of this library.
public protocol HandshakeStage {
    /// A short name for logs and errors, such as `"identify"`.
    var name: String { get }

    /// How long this stage may take from its start; `nil`: only the handshake's
    /// ``ConnectionConfiguration/handshakeTimeout`` applies.
    var timeout: Duration? { get }

    /// The stage begins (the stages before it passed).
    /// - Parameters:
    ///   - context: the link: send frames, make request ids, record results.
    ///   - now: the present.
    /// - Returns: ``HandshakeVerdict/pass`` when done already,
    ///   ``HandshakeVerdict/continue`` to wait for frames, or a failure.
    mutating func start(context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict

    /// A frame arrived while this stage runs.
    /// - Parameters:
    ///   - frame: the frame (JSON frames only: a binary frame during the handshake fails it).
    ///   - context: the link.
    ///   - now: the present.
    /// - Returns: the stage's verdict, and whether the frame was the stage's
    ///   (`consumed`); a frame not consumed is held and dispatched once the link is open.
    mutating func receive(_ frame: Frame, context: inout HandshakeContext, now: NIODeadline) -> (verdict: HandshakeVerdict, consumed: Bool)

    /// A channel event reached the link while this stage runs (a user event
    /// from a handler below, such as NIOSSL's `TLSUserEvent.handshakeCompleted`:
    /// a TLS stage passes on it).
    /// - Parameters:
    ///   - event: the event, as the pipeline carries it.
    ///   - context: the link.
    ///   - now: the present.
    /// - Returns: the stage's verdict; by default ``HandshakeVerdict/continue``.
    mutating func receive(event: Any, context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict

    /// The stage's ``timeout``, or the handshake's, passed before it passed.
    /// At the handshake's deadline, ``HandshakeVerdict/continue`` fails the link
    /// (``HandshakeFailure/Reason/timedOut``), and after a pass the next stages
    /// must pass at once.
    /// - Returns: the verdict; by default a ``HandshakeFailure/Reason/timedOut`` failure.
    mutating func timedOut(context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict
}

extension HandshakeStage {
    /// No timeout of the stage's own.
    public var timeout: Duration? { nil }

    /// Frames are not this stage's by default: held, and the stage goes on waiting.
    public mutating func receive(_ frame: Frame, context: inout HandshakeContext, now: NIODeadline) -> (verdict: HandshakeVerdict, consumed: Bool) {
        (.continue, false)
    }

    /// Events do not concern a stage by default.
    public mutating func receive(event: Any, context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict {
        .continue
    }

    /// Fails with ``HandshakeFailure/Reason/timedOut``.
    public mutating func timedOut(context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict {
        .fail(HandshakeFailure(reason: .timedOut, stage: name, message: "no verdict in time"))
    }
}

/// Makes the stage of one kind for each new link.
public protocol HandshakeStageFactory: Sendable {
    /// A stage for a link that just came up.
    /// - Parameter link: what is known of the link.
    /// - Returns: a fresh stage.
    func makeStage(for link: HandshakeLink) -> any HandshakeStage
}

/// What is known of a link when its handshake begins.
public struct HandshakeLink: Sendable, Hashable {
    /// The peer's address.
    public var remoteAddress: SocketAddress?
    /// The connection's process-unique number (``Connection/number``).
    public var connectionNumber: Int
    /// How many links the connection has had, this one included (more than 1: a reconnect).
    public var linkNumber: Int

    /// Describes a link.
    /// - Parameters:
    ///   - remoteAddress: the peer's address.
    ///   - connectionNumber: the connection's number.
    ///   - linkNumber: the link's number on its connection.
    public init(remoteAddress: SocketAddress?, connectionNumber: Int, linkNumber: Int) {
        self.remoteAddress = remoteAddress
        self.connectionNumber = connectionNumber
        self.linkNumber = linkNumber
    }
}

/// What a stage says.
public enum HandshakeVerdict: Sendable, Hashable {
    /// Not done: wait for more frames (or the deadline).
    case `continue`
    /// Done: the next stage starts; after the last one, the link opens.
    case pass
    /// The link must not open: it is closed with this error.
    case fail(HandshakeFailure)
}

/// Why a link's handshake failed (carried by ``MessagingError/handshakeFailed(_:)``).
public struct HandshakeFailure: Sendable, Hashable, CustomStringConvertible {
    /// A machine-readable reason. Stages may define their own reasons.
    public struct Reason: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The reason's text.
        public var rawValue: String

        /// A reason.
        /// - Parameter rawValue: its text, such as `"timed_out"`.
        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// The reason's text.
        public var description: String { rawValue }

        /// The stage (or the whole handshake) did not pass in time.
        public static let timedOut = Reason(rawValue: "timed_out")
        /// The peer's answer was refused (a wrong token, an unsupported version...).
        public static let rejected = Reason(rawValue: "rejected")
        /// The peer sent something the stage cannot take (a binary frame, a malformed answer).
        public static let unexpectedFrame = Reason(rawValue: "unexpected_frame")
        /// The peer sent too many frames before the link opened.
        public static let tooManyFrames = Reason(rawValue: "too_many_frames")
        /// A frame of the stage could not be sent.
        public static let sendFailed = Reason(rawValue: "send_failed")
    }

    /// The reason.
    public var reason: Reason
    /// The name of the stage that failed (`"handshake"` for the whole).
    public var stage: String
    /// A human-readable explanation.
    public var message: String

    /// A failure.
    /// - Parameters:
    ///   - reason: the reason.
    ///   - stage: the stage's name.
    ///   - message: an explanation.
    public init(reason: Reason, stage: String, message: String) {
        self.reason = reason
        self.stage = stage
        self.message = message
    }

    /// A one-line explanation.
    public var description: String { "handshake stage \"\(stage)\" failed (\(reason)): \(message)" }
}

/// A stage's view of its link: what it may do and what it learns.
///
/// Frames a stage sends go out at once, ahead of everything the user queued
/// (which waits for the link to open). Results a stage records
/// (``record(_:)``) stay with the connection once the link is open
/// (``Connection/handshakeResult(_:)``).
public struct HandshakeContext {
    /// What is known of the link.
    public let link: HandshakeLink
    /// The connection's logger.
    public let logger: Logger
    /// Whether a frame from the peer showed this library's extensions
    /// (the `x-clever` header key), so far.
    public internal(set) var peerSpeaksExtensions: Bool
    /// Frames to send, in order (taken by the link after each call).
    package var outbound: [Frame] = []
    /// The next request number of the connection (request ids share its counter).
    package var nextRequestNumber: Int
    /// Results recorded by stages, by type.
    package var results: [ObjectIdentifier: any Sendable] = [:]

    /// A context (the link makes it; tests make their own).
    /// - Parameters:
    ///   - link: the link.
    ///   - logger: where to log.
    ///   - peerSpeaksExtensions: whether the peer showed the extensions already.
    ///   - nextRequestNumber: the first request number stages may use.
    public init(link: HandshakeLink, logger: Logger, peerSpeaksExtensions: Bool = false, nextRequestNumber: Int = 1) {
        self.link = link
        self.logger = logger
        self.peerSpeaksExtensions = peerSpeaksExtensions
        self.nextRequestNumber = nextRequestNumber
    }

    /// Sends a frame to the peer now.
    /// - Parameter frame: the frame.
    public mutating func send(_ frame: Frame) {
        outbound.append(frame)
    }

    /// Sends a request to the peer now; its response comes to the stage's
    /// ``HandshakeStage/receive(_:context:now:)`` (a response to a handshake
    /// request never reaches the connection's pending requests).
    /// - Parameters:
    ///   - requestedValue: what is asked.
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    /// - Returns: the request id, to match the response's `request_id`.
    public mutating func sendRequest(_ requestedValue: String, args: [JSONValue] = [], kwargs: JSONObject = [:]) -> String {
        let id = RequestID.format(nextRequestNumber)
        nextRequestNumber += 1
        send(.request(requestedValue, id: .string(id), args: args, kwargs: kwargs))
        return id
    }

    /// Keeps a result for after the handshake (one per type; a later one replaces it).
    /// - Parameter result: the result, such as ``IdentifyStage/Identity``.
    public mutating func record<Result: Sendable>(_ result: Result) {
        results[ObjectIdentifier(Result.self)] = result
    }

    /// A result recorded by this or an earlier stage.
    /// - Parameter type: its type.
    /// - Returns: the result, or `nil`.
    public func result<Result: Sendable>(_ type: Result.Type) -> Result? {
        results[ObjectIdentifier(type)] as? Result
    }

    /// Takes the frames sent since the last call.
    package mutating func takeOutbound() -> [Frame] {
        defer { outbound = [] }
        return outbound
    }
}
