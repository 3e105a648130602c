import NIOCore

/// Asks a new link's peer who it is, as a ground station asks a drone on
/// connect: the requests `id` and `clover_dir` go out together, `id` first (one
/// write, answered in one read by the drone), and the link opens once they are
/// answered. The answer is recorded as an ``Identity``
/// (``Connection/handshakeResult(_:)``).
///
/// * `id` answered with a string (or any non-null value, written as text): identified.
/// * `id` answered `null`, or with an error reply: the stage fails (``HandshakeFailure/Reason/rejected``).
/// * `clover_dir` unanswered (a drone without that handler sends no answer)
///   or answered with an error: `cloverDirectory` is `nil`, and the stage
///   passes when its ``timeout`` is reached with the `id` in hand.
/// * No `id` within the timeout: the stage fails (``HandshakeFailure/Reason/timedOut``).
public struct IdentifyStage: HandshakeStage {
    /// Who the peer said it is.
    public struct Identity: Sendable, Hashable {
        /// The answer to `id`.
        public var id: String
        /// The answer to `clover_dir`, when there was one.
        public var cloverDirectory: String?

        /// An identity.
        /// - Parameters:
        ///   - id: the peer's id.
        ///   - cloverDirectory: its `clover_dir`.
        public init(id: String, cloverDirectory: String?) {
            self.id = id
            self.cloverDirectory = cloverDirectory
        }
    }

    /// Makes the stage for each link.
    public struct Factory: HandshakeStageFactory {
        /// How long the peer has to answer.
        public var timeout: Duration
        /// Whether `clover_dir` is asked too.
        public var asksCloverDirectory: Bool

        /// A factory.
        /// - Parameters:
        ///   - timeout: how long the peer has to answer (the ground station's identify timeout).
        ///   - asksCloverDirectory: ask `clover_dir` as well as `id` (default `true`).
        public init(timeout: Duration, asksCloverDirectory: Bool = true) {
            self.timeout = timeout
            self.asksCloverDirectory = asksCloverDirectory
        }

        /// A stage for a new link.
        public func makeStage(for link: HandshakeLink) -> any HandshakeStage {
            IdentifyStage(timeout: timeout, asksCloverDirectory: asksCloverDirectory)
        }
    }

    /// How long the peer has to answer.
    public let timeout: Duration?
    private let asksCloverDirectory: Bool
    private var idRequest: String?
    private var cloverDirRequest: String?
    private var id: String?
    /// The `clover_dir` answer: `.some(nil)` when it was answered without a usable value.
    private var cloverDirectory: String??

    /// A stage.
    /// - Parameters:
    ///   - timeout: how long the peer has to answer.
    ///   - asksCloverDirectory: ask `clover_dir` as well as `id`.
    public init(timeout: Duration, asksCloverDirectory: Bool = true) {
        self.timeout = timeout
        self.asksCloverDirectory = asksCloverDirectory
    }

    /// `"identify"`.
    public var name: String { "identify" }

    /// Sends the requests.
    public mutating func start(context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict {
        idRequest = context.sendRequest("id")
        if asksCloverDirectory { cloverDirRequest = context.sendRequest("clover_dir") }
        return .continue
    }

    /// Takes the responses to its requests.
    public mutating func receive(_ frame: Frame, context: inout HandshakeContext, now: NIODeadline) -> (verdict: HandshakeVerdict, consumed: Bool) {
        guard frame.header.messageType == .response, case .string(let requestID)? = frame.header.requestID else { return (.continue, false) }
        let content = frame.content.jsonValue
        let failed = content?["error"].map { !$0.isNull } ?? false
        let value = content?["value"] ?? .null
        if requestID == idRequest {
            idRequest = nil
            guard !failed else { return (.fail(rejected("the peer answered id with an error: \(content?["error"] ?? .null)")), true) }
            guard let text = value.stringValue ?? (value.isNull ? nil : "\(value)") else {
                return (.fail(rejected("the peer answered a null id")), true)
            }
            id = text
        } else if requestID == cloverDirRequest {
            cloverDirRequest = nil
            cloverDirectory = .some(failed ? nil : value.stringValue)
        } else {
            return (.continue, false)
        }
        return (verdict(context: &context), true)
    }

    /// No complete answer in time: passes with the `id` alone, fails without it.
    public mutating func timedOut(context: inout HandshakeContext, now: NIODeadline) -> HandshakeVerdict {
        guard let id else {
            return .fail(HandshakeFailure(reason: .timedOut, stage: name, message: "no answer to id in \(LogFormat.duration(timeout ?? .zero))"))
        }
        context.record(Identity(id: id, cloverDirectory: nil))
        return .pass
    }

    private func verdict(context: inout HandshakeContext) -> HandshakeVerdict {
        guard let id else { return .continue }
        if asksCloverDirectory && cloverDirectory == nil { return .continue }
        context.record(Identity(id: id, cloverDirectory: cloverDirectory ?? nil))
        return .pass
    }

    private func rejected(_ message: String) -> HandshakeFailure {
        HandshakeFailure(reason: .rejected, stage: name, message: message)
    }
}
