import Logging
import NIOCore
import NIOPosix

/// A client of a NATS server or cluster: publish, subscribe (with queue groups),
/// request-reply, flush; it reconnects across the cluster by itself.
///
/// ```swift
/// let client = NATSClient(configuration: try NATSConfiguration(urls: ["nats://127.0.0.1:4222"]))
/// try await client.connect()
/// let replies = try await client.subscribe(to: "greet.*")
/// try await client.publish("hello", to: "greet.joe")
/// await client.close()
/// ```
///
/// While reconnecting, publishes are kept (up to ``NATSConfiguration/reconnectBufferBytes``)
/// and written when a connection is up again, after the subscriptions are sent again.
public final class NATSClient: Sendable {
    /// The connection's changes: connected, disconnected, reconnected, server errors, closed.
    ///
    /// Keeps the newest 256 events for a slow reader; it ends when the client closes.
    /// Read it from one task at a time.
    public let events: AsyncStream<NATSEvent>

    let core: NATSConnectionCore

    /// A client that is not connected yet; call ``connect()``.
    /// - Parameters:
    ///   - configuration: servers, credentials, TLS, limits and timings.
    ///   - eventLoopGroup: where its connection runs (one loop of it).
    ///   - logger: where it logs (debug and trace only).
    public init(
        configuration: NATSConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "clever.nats")
    ) {
        let (events, continuation) = AsyncStream.makeStream(of: NATSEvent.self, bufferingPolicy: .bufferingNewest(256))
        self.events = events
        self.core = NATSConnectionCore(
            eventLoop: eventLoopGroup.next(), configuration: configuration, logger: logger, events: continuation)
    }

    /// Dropping the client closes it (as ``close()`` does, without waiting).
    deinit {
        let core = self.core
        core.eventLoop.execute { _ = core.close() }
    }

    /// Connects to the first server of the configuration that accepts the client.
    ///
    /// Each configured server is tried once, in order.
    /// - Throws: ``NATSError/authorizationViolation`` when the credentials were refused,
    ///   ``NATSError/connectFailed(reason:)`` when no server could be reached.
    public func connect() async throws {
        try await onLoop { $0.start() }.get()
    }

    /// Publishes `payload` to `subject`.
    ///
    /// Returns once the message is written to the connection (or buffered while reconnecting).
    /// - Parameters:
    ///   - payload: the bytes.
    ///   - subject: the subject.
    ///   - replyTo: the subject a receiver should reply to.
    ///   - headers: headers (sent with `HPUB`).
    /// - Throws: ``NATSError/invalidArgument(reason:)``, ``NATSError/payloadTooLarge(size:limit:)``,
    ///   ``NATSError/reconnectBufferFull(buffered:limit:)``, ``NATSError/outboundBufferFull(limit:)`` (a slow server),
    ///   ``NATSError/notConnected``, ``NATSError/closed``.
    public func publish(
        _ payload: ByteBuffer, to subject: String, replyTo: String? = nil, headers: NATSHeaders? = nil
    ) async throws {
        try NATSCommand.validate(subject: subject)
        if let replyTo { try NATSCommand.validate(subject: replyTo, what: "reply subject") }
        let headerBlock = try headers?.encoded()
        var command = ByteBuffer()
        NATSCommand.writePublish(
            subject: subject, replyTo: replyTo, headerBlock: headerBlock, payload: payload, into: &command)
        let payloadBytes = NATSCommand.payloadSize(payload: payload, headerBlock: headerBlock)
        let written = command
        try await onLoopThrowing { try $0.publish(written, payloadBytes: payloadBytes) }
    }

    /// Publishes `text` (as UTF-8) to `subject`.
    /// - Parameters:
    ///   - text: the payload.
    ///   - subject: the subject.
    ///   - replyTo: the subject a receiver should reply to.
    ///   - headers: headers (sent with `HPUB`).
    /// - Throws: as ``publish(_:to:replyTo:headers:)-(ByteBuffer,_,_,_)``.
    public func publish(
        _ text: String, to subject: String, replyTo: String? = nil, headers: NATSHeaders? = nil
    ) async throws {
        try await publish(ByteBuffer(string: text), to: subject, replyTo: replyTo, headers: headers)
    }

    /// Subscribes to `subject` (wildcards `*` and `>` allowed).
    /// - Parameters:
    ///   - subject: the subject.
    ///   - queueGroup: a queue group: each message goes to one member of the group.
    /// - Returns: the subscription, an `AsyncSequence` of its messages.
    /// - Throws: ``NATSError/invalidArgument(reason:)``, ``NATSError/closed``.
    public func subscribe(to subject: String, queueGroup: String? = nil) async throws -> NATSSubscription {
        try NATSCommand.validate(subject: subject)
        if let queueGroup { try NATSCommand.validate(subject: queueGroup, what: "queue group") }
        return try await onLoopThrowing { try $0.subscribe(subject: subject, queueGroup: queueGroup) }
    }

    /// Sends a request and waits for the first reply.
    ///
    /// Replies come through one wildcard subscription, `_INBOX.<random>.*`, made at the first request.
    /// - Parameters:
    ///   - payload: the request's bytes.
    ///   - subject: the subject of the service.
    ///   - headers: headers (sent with `HPUB`).
    ///   - timeout: how long to wait for the reply.
    /// - Returns: the reply.
    /// - Throws: ``NATSError/timedOut(subject:timeout:)``, ``NATSError/noResponders(subject:)``,
    ///   and the errors of publishing.
    public func request(
        _ payload: ByteBuffer, to subject: String, headers: NATSHeaders? = nil, timeout: Duration = .seconds(5)
    ) async throws -> NATSMessage {
        try NATSCommand.validate(subject: subject)
        let headerBlock = try headers?.encoded()
        return try await onLoop {
            $0.request(subject: subject, headerBlock: headerBlock, payload: payload, timeout: timeout)
        }.get()
    }

    /// Sends a text request and waits for the first reply.
    /// - Parameters:
    ///   - text: the request's payload.
    ///   - subject: the subject of the service.
    ///   - headers: headers (sent with `HPUB`).
    ///   - timeout: how long to wait for the reply.
    /// - Returns: the reply.
    /// - Throws: as ``request(_:to:headers:timeout:)-(ByteBuffer,_,_,_)``.
    public func request(
        _ text: String, to subject: String, headers: NATSHeaders? = nil, timeout: Duration = .seconds(5)
    ) async throws -> NATSMessage {
        try await request(ByteBuffer(string: text), to: subject, headers: headers, timeout: timeout)
    }

    /// Waits until the server has processed everything written before: sends a PING, waits for its PONG.
    /// - Parameter timeout: how long to wait for the PONG.
    /// - Throws: ``NATSError/timedOut(subject:timeout:)``, ``NATSError/notConnected`` (also while reconnecting),
    ///   ``NATSError/connectionLost``, ``NATSError/closed``.
    public func flush(timeout: Duration = .seconds(5)) async throws {
        try await onLoop { $0.flush(timeout: timeout) }.get()
    }

    /// Closes the client: the connection, every subscription (their sequences end) and pending request.
    public func close() async {
        try? await onLoop { $0.close() }.get()
    }

    private func onLoop<T: Sendable>(
        _ body: @escaping @Sendable (NATSConnectionCore) -> EventLoopFuture<T>
    ) -> EventLoopFuture<T> {
        let core = self.core
        if core.eventLoop.inEventLoop { return body(core) }
        return core.eventLoop.flatSubmit { body(core) }
    }

    private func onLoopThrowing<T: Sendable>(
        _ body: @escaping @Sendable (NATSConnectionCore) throws -> T
    ) async throws -> T {
        let core = self.core
        if core.eventLoop.inEventLoop { return try body(core) }
        return try await core.eventLoop.submit { try body(core) }.get()
    }
}
