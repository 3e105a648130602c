import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// The NATS client's connection, confined to one event loop: it feeds the
/// ``NATSConnectionStateMachine`` and performs its actions (connect, TLS,
/// CONNECT, resubscribe, buffered publishes, pings, reconnect timers).
///
/// Safety of `@unchecked Sendable`: every stored `var` is read and written only
/// on `eventLoop`. The channel handler calls in from the channel's pipeline,
/// which runs on `eventLoop` (the bootstrap is given that loop alone), and
/// ``NATSClient`` reaches the core only through `eventLoop.submit`/`execute`.
/// Each entry point asserts it runs there.
final class NATSConnectionCore: @unchecked Sendable {
    enum Sink {
        case stream(AsyncThrowingStream<NATSMessage, any Error>.Continuation)
        case inbox
    }

    struct PendingRequest {
        var subject: String
        var promise: EventLoopPromise<NATSMessage>
        var timeout: Scheduled<Void>
    }

    struct PongWaiter {
        var promise: EventLoopPromise<Void>
        var timeout: Scheduled<Void>
    }

    let eventLoop: any EventLoop
    let configuration: NATSConfiguration
    let logger: Logger
    let events: AsyncStream<NATSEvent>.Continuation

    var machine: NATSConnectionStateMachine
    var channel: (any Channel)?
    var channelError: NATSError?
    var reconnectBuffer: ByteBuffer
    var subscriptions = NATSSubscriptionTable<Sink>()
    /// One entry per PING in flight, in order: the id of a flush waiting for it, or nil.
    var pongQueue = CircularBuffer<UInt64?>()
    var pongWaiters: [UInt64: PongWaiter] = [:]
    var nextWaiterID: UInt64 = 0
    var connectPromise: EventLoopPromise<Void>?
    var reconnectTask: Scheduled<Void>?
    var handshakeTask: Scheduled<Void>?
    var pingTask: RepeatedTask?
    var inboxPrefix: String?
    var requests: [Substring: PendingRequest] = [:]
    var nextRequest: UInt64 = 0

    init(
        eventLoop: any EventLoop, configuration: NATSConfiguration, logger: Logger,
        events: AsyncStream<NATSEvent>.Continuation
    ) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.logger = logger
        self.events = events
        self.reconnectBuffer = ByteBuffer()
        var settings = NATSConnectionStateMachine.Settings(servers: configuration.servers)
        settings.discoverServers = configuration.discoverServers
        settings.tlsConfigured = configuration.tls != nil
        settings.maximumPingsOutstanding = max(1, configuration.maximumPingsOutstanding)
        settings.reconnectDelay = TimeAmount(configuration.reconnectDelay)
        settings.maximumReconnectDelay = TimeAmount(configuration.maximumReconnectDelay)
        settings.maximumReconnectAttempts = configuration.maximumReconnectAttempts
        settings.reconnectBufferBytes = max(0, configuration.reconnectBufferBytes)
        settings.maximumPendingWriteBytes = max(1024, configuration.maximumPendingWriteBytes)
        self.machine = NATSConnectionStateMachine(settings: settings)
    }

    // MARK: Connecting

    func start() -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        if let connectPromise { return connectPromise.futureResult }
        guard case .idle = machine.phase else {
            return eventLoop.makeFailedFuture(machine.isClosed ? NATSError.closed : NATSError.invalidArgument(reason: "already connected"))
        }
        let promise = eventLoop.makePromise(of: Void.self)
        connectPromise = promise
        perform(machine.start())
        return promise.futureResult
    }

    func perform(_ action: NATSConnectionStateMachine.ConnectAction) {
        switch action {
        case .connect(let server):
            connect(to: server)
        case .scheduleReconnect(let deadline):
            logger.debug("NATS reconnect scheduled", metadata: ["in": "\(deadline - .now())"])
            reconnectTask = eventLoop.scheduleTask(deadline: deadline) { [self] in
                reconnectTask = nil
                perform(machine.reconnectTimerFired(now: .now()))
            }
        case .giveUp(let error):
            logger.debug("NATS client gives up", metadata: ["error": "\(error)"])
            finish(error: error)
        case .none:
            break
        }
    }

    private func connect(to server: NATSServerAddress) {
        logger.debug("NATS connecting", metadata: ["server": "\(server)"])
        channelError = nil
        let limits = configuration.parserLimits
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(
                .writeBufferWaterMark,
                value: .init(low: machine.settings.maximumPendingWriteBytes / 2, high: machine.settings.maximumPendingWriteBytes))
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(NATSDecoder(limits: limits)),
                        NATSChannelHandler(core: self))
                }
            }
        bootstrap.connect(host: server.host, port: server.port).whenFailure { [self] error in
            handshakeTask?.cancel()
            handshakeTask = nil
            perform(machine.connectFailed(.connectFailed(reason: "\(server): \(error)"), now: .now()))
        }
        handshakeTask?.cancel()
        handshakeTask = eventLoop.scheduleTask(in: TimeAmount(configuration.connectTimeout) * 2) { [self] in
            handshakeTask = nil
            if machine.handshakeTimedOut() { channel?.close(promise: nil) }
        }
    }

    func channelActive(_ channel: any Channel) {
        eventLoop.assertInEventLoop()
        guard case .connecting = machine.phase, self.channel == nil else {
            channel.close(promise: nil)
            return
        }
        self.channel = channel
    }

    func channelFailed(_ error: NATSError, on channel: any Channel) {
        guard channel === self.channel else { return }
        channelError = channelError ?? error
        logger.debug("NATS channel error", metadata: ["error": "\(error)"])
    }

    func channelInactive(_ channel: any Channel) {
        eventLoop.assertInEventLoop()
        guard channel === self.channel else { return }
        self.channel = nil
        pingTask?.cancel()
        pingTask = nil
        handshakeTask?.cancel()
        handshakeTask = nil
        failPongWaiters(.connectionLost)
        switch machine.channelClosed(channelError, now: .now()) {
        case .lostConnection(let then):
            logger.debug("NATS connection lost", metadata: ["error": "\(channelError.map { "\($0)" } ?? "none")"])
            events.yield(.disconnected(channelError))
            perform(then)
        case .attemptFailed(let error, let then):
            logger.debug("NATS connection attempt failed", metadata: ["error": "\(error)"])
            perform(then)
        case .none:
            break
        }
    }

    // MARK: Server operations

    func received(_ operation: NATSServerOperation, on channel: any Channel) {
        eventLoop.assertInEventLoop()
        guard channel === self.channel else { return }
        switch operation {
        case .message(let sid, let message):
            deliver(message, sid: sid)
        case .ping:
            var buffer = channel.allocator.buffer(capacity: 6)
            NATSCommand.writePong(into: &buffer)
            channel.writeAndFlush(buffer, promise: nil)
        case .pong:
            if let id = pongQueue.popFirst() ?? nil, let waiter = pongWaiters.removeValue(forKey: id) {
                waiter.timeout.cancel()
                waiter.promise.succeed()
            }
            if case .connected(let server, let reconnected) = machine.pongReceived() {
                connected(to: server, reconnected: reconnected, channel: channel)
            }
        case .ok:
            break
        case .error(let text):
            let error = machine.errorReceived(text)
            logger.debug("NATS server error", metadata: ["error": "\(error)"])
            if NATSConnectionStateMachine.closesConnection(text) { channelError = channelError ?? error }
            events.yield(.serverError(error))
        case .info(let info):
            switch machine.infoReceived(info) {
            case .sendConnect(let server, let tls):
                sendConnect(to: server, tls: tls, info: info, channel: channel)
            case .none:
                break
            }
        }
    }

    private func sendConnect(to server: NATSServerAddress, tls: Bool, info: NATSServerInfo, channel: any Channel) {
        if tls {
            do {
                let context = try NIOSSLContext(configuration: configuration.tls ?? .makeClientConfiguration())
                let isAddress = (try? SocketAddress(ipAddress: server.host, port: 0)) != nil
                let handler = try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : server.host)
                try channel.pipeline.syncOperations.addHandler(handler, position: .first)
            } catch {
                channelError = .tlsFailed(reason: "\(error)")
                channel.close(promise: nil)
                return
            }
        }
        var options = NATSCommand.ConnectOptions(tlsRequired: tls, name: configuration.name)
        switch configuration.authentication {
        case .token(let token): options.authToken = token
        case .userPassword(let user, let password):
            options.user = user
            options.pass = password
        case .none:
            if let password = server.password {
                options.user = server.user
                options.pass = password
            } else if let token = server.user {
                options.authToken = token
            }
        }
        var buffer = channel.allocator.buffer(capacity: 256)
        NATSCommand.writeConnect(options, into: &buffer)
        NATSCommand.writePing(into: &buffer)
        pongQueue.append(nil)
        channel.writeAndFlush(buffer, promise: nil)
    }

    private func connected(to server: NATSServerAddress, reconnected: Bool, channel: any Channel) {
        handshakeTask?.cancel()
        handshakeTask = nil
        logger.debug("NATS connected", metadata: ["server": "\(server)", "reconnected": "\(reconnected)"])
        var buffer = channel.allocator.buffer(capacity: 256 + reconnectBuffer.readableBytes)
        for replay in subscriptions.replay {
            NATSCommand.writeSubscribe(subject: replay.subject, queueGroup: replay.queueGroup, sid: replay.sid, into: &buffer)
            if let remaining = replay.remaining {
                NATSCommand.writeUnsubscribe(sid: replay.sid, afterMessages: remaining, into: &buffer)
            }
        }
        buffer.writeBuffer(&reconnectBuffer)
        reconnectBuffer = ByteBuffer()
        if buffer.readableBytes > 0 { channel.writeAndFlush(buffer, promise: nil) }
        let interval = TimeAmount(configuration.pingInterval)
        pingTask = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            pingTimerFired()
        }
        if let connectPromise {
            self.connectPromise = nil
            connectPromise.succeed()
        }
        events.yield(reconnected ? .reconnected(server) : .connected(server))
    }

    func pingTimerFired() {
        switch machine.pingTimerFired() {
        case .sendPing:
            guard let channel else { return }
            var buffer = channel.allocator.buffer(capacity: 6)
            NATSCommand.writePing(into: &buffer)
            pongQueue.append(nil)
            channel.writeAndFlush(buffer, promise: nil)
        case .closeStale(let error):
            logger.debug("NATS server stopped answering pings")
            channelError = error
            channel?.close(promise: nil)
        case .none:
            break
        }
    }

    // MARK: Ending

    private func failPongWaiters(_ error: NATSError) {
        pongQueue.removeAll()
        let waiters = pongWaiters
        pongWaiters = [:]
        for waiter in waiters.values {
            waiter.timeout.cancel()
            waiter.promise.fail(error)
        }
    }

    /// Ends everything: subscriptions finish (with `error` when there is one), waiters fail.
    func finish(error: NATSError?) {
        reconnectTask?.cancel()
        reconnectTask = nil
        handshakeTask?.cancel()
        handshakeTask = nil
        pingTask?.cancel()
        pingTask = nil
        reconnectBuffer = ByteBuffer()
        failPongWaiters(error ?? .closed)
        let pending = requests
        requests = [:]
        for request in pending.values {
            request.timeout.cancel()
            request.promise.fail(error ?? .closed)
        }
        for entry in subscriptions.removeAll() {
            if case .stream(let continuation) = entry.sink {
                continuation.finish(throwing: error)
            }
        }
        if let connectPromise {
            self.connectPromise = nil
            connectPromise.fail(error ?? .closed)
        }
        events.yield(.closed(error))
        events.finish()
    }

    func close() -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        guard !machine.isClosed else { return eventLoop.makeSucceededVoidFuture() }
        _ = machine.close()
        let channel = self.channel
        self.channel = nil
        finish(error: nil)
        guard let channel else { return eventLoop.makeSucceededVoidFuture() }
        return channel.close().recover { _ in }
    }
}
