import NIOCore

/// The life of a NATS connection as a value: events in, actions out, time as input.
///
/// It picks the server to try, counts failures and pings, decides the
/// reconnect backoff, and decides whether a publish is written, buffered for
/// the next connection (bounded in bytes) or refused. It performs no I/O and
/// reads no clock: the ``NATSClient`` performs its actions.
struct NATSConnectionStateMachine {
    struct Settings: Hashable {
        var servers: [NATSServerAddress]
        var discoverServers = true
        var tlsConfigured = false
        var maximumPingsOutstanding = 2
        var reconnectDelay = TimeAmount.milliseconds(250)
        var maximumReconnectDelay = TimeAmount.seconds(4)
        var maximumReconnectAttempts: Int? = 60
        var reconnectBufferBytes = 8 * 1024 * 1024
        var maximumPendingWriteBytes = 8 * 1024 * 1024
    }

    enum Phase: Hashable {
        case idle
        /// Connecting over TCP, then waiting for the server's INFO.
        case connecting(NATSServerAddress)
        /// CONNECT and PING sent, waiting for the PONG that confirms them.
        case handshaking(NATSServerAddress)
        case connected(NATSServerAddress)
        case waitingToReconnect(until: NIODeadline)
        case closed(NATSError?)
    }

    /// What to do next about the connection.
    enum ConnectAction: Hashable {
        case connect(NATSServerAddress)
        case scheduleReconnect(at: NIODeadline)
        case giveUp(NATSError)
        case none
    }

    enum InfoAction: Hashable {
        /// Send CONNECT then PING; upgrade the channel to TLS first when `tls`.
        case sendConnect(NATSServerAddress, tls: Bool)
        case none
    }

    enum PongAction: Hashable {
        /// The handshake completed: resubscribe, write the buffered publishes, start pinging.
        case connected(NATSServerAddress, reconnected: Bool)
        case none
    }

    enum PingAction: Hashable {
        case sendPing
        case closeStale(NATSError)
        case none
    }

    enum ClosedAction: Hashable {
        /// An established connection dropped; `then` says what comes next.
        case lostConnection(then: ConnectAction)
        /// A connection attempt failed; `then` says what comes next.
        case attemptFailed(NATSError, then: ConnectAction)
        case none
    }

    enum PublishAction: Hashable {
        case write
        case buffer
        case reject(NATSError)
    }

    let settings: Settings
    private(set) var phase = Phase.idle
    private(set) var servers: [NATSServerAddress]
    private(set) var pingsOutstanding = 0
    private(set) var bufferedBytes = 0
    private(set) var everConnected = false
    private(set) var serverMaxPayload: Int?
    private var serverIndex = 0
    private var failedAttempts = 0
    private var lastFailure: NATSError?

    init(settings: Settings) {
        self.settings = settings
        self.servers = settings.servers
    }

    var isConnected: Bool {
        if case .connected = phase { return true }
        return false
    }

    var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    mutating func start() -> ConnectAction {
        guard case .idle = phase else { return .none }
        guard let first = servers.first else {
            phase = .closed(.connectFailed(reason: "no server to connect to"))
            return .giveUp(.connectFailed(reason: "no server to connect to"))
        }
        phase = .connecting(first)
        return .connect(first)
    }

    mutating func infoReceived(_ info: NATSServerInfo) -> InfoAction {
        if info.maxPayload > 0 { serverMaxPayload = info.maxPayload }
        if settings.discoverServers {
            for url in info.connectURLs {
                guard let address = try? NATSServerAddress(parsing: url),
                    !servers.contains(where: { $0.sameServer(as: address) })
                else { continue }
                servers.append(address)
            }
        }
        guard case .connecting(let server) = phase else { return .none }
        phase = .handshaking(server)
        pingsOutstanding = 1
        return .sendConnect(server, tls: server.tls || info.tlsRequired || settings.tlsConfigured)
    }

    mutating func pongReceived() -> PongAction {
        switch phase {
        case .handshaking(let server):
            phase = .connected(server)
            let reconnected = everConnected
            everConnected = true
            failedAttempts = 0
            lastFailure = nil
            pingsOutstanding = 0
            bufferedBytes = 0
            return .connected(server, reconnected: reconnected)
        case .connected:
            pingsOutstanding = max(0, pingsOutstanding - 1)
            return .none
        default:
            return .none
        }
    }

    /// A PING the user asked for (flush) went out.
    mutating func pingSent() {
        if isConnected { pingsOutstanding += 1 }
    }

    mutating func pingTimerFired() -> PingAction {
        guard isConnected else { return .none }
        guard pingsOutstanding < settings.maximumPingsOutstanding else {
            return .closeStale(.staleConnection(count: pingsOutstanding))
        }
        pingsOutstanding += 1
        return .sendPing
    }

    /// The server sent `-ERR`: returns the typed error; one during the handshake fails the attempt.
    mutating func errorReceived(_ text: String) -> NATSError {
        let lowered = text.lowercased()
        let error: NATSError =
            lowered.contains("authorization violation") || lowered.contains("authentication")
            ? .authorizationViolation : .serverError(message: text)
        switch phase {
        case .connecting, .handshaking: lastFailure = error
        default: break
        }
        return error
    }

    /// Whether the server closes the connection after this `-ERR` (the NATS server's fatal errors).
    static func closesConnection(_ text: String) -> Bool {
        let lowered = text.lowercased()
        return [
            "authorization violation", "authentication timeout", "stale connection", "slow consumer",
            "maximum payload", "unknown protocol", "parser error", "maximum connections", "secure connection",
        ].contains { lowered.contains($0) }
    }

    /// The handshake (INFO, then PONG) took too long: the channel is to be closed.
    mutating func handshakeTimedOut() -> Bool {
        switch phase {
        case .connecting, .handshaking:
            lastFailure = lastFailure ?? .connectFailed(reason: "the server did not complete the handshake in time")
            return true
        default:
            return false
        }
    }

    mutating func connectFailed(_ error: NATSError, now: NIODeadline) -> ConnectAction {
        guard case .connecting = phase else { return .none }
        return attemptFailed(error, now: now)
    }

    mutating func channelClosed(_ error: NATSError?, now: NIODeadline) -> ClosedAction {
        switch phase {
        case .connecting, .handshaking:
            let failure = lastFailure ?? error ?? .connectionLost
            return .attemptFailed(failure, then: attemptFailed(failure, now: now))
        case .connected:
            pingsOutstanding = 0
            failedAttempts = 0
            if settings.maximumReconnectAttempts == 0 {
                let failure = error ?? .connectionLost
                phase = .closed(failure)
                return .lostConnection(then: .giveUp(failure))
            }
            serverIndex = (serverIndex + 1) % servers.count
            let at = now + settings.reconnectDelay
            phase = .waitingToReconnect(until: at)
            return .lostConnection(then: .scheduleReconnect(at: at))
        default:
            return .none
        }
    }

    mutating func reconnectTimerFired(now: NIODeadline) -> ConnectAction {
        guard case .waitingToReconnect(let until) = phase, now >= until else { return .none }
        let server = servers[serverIndex]
        phase = .connecting(server)
        return .connect(server)
    }

    /// A publish of `payloadBytes` (headers included) taking `commandBytes` on the wire;
    /// `writable` is false while the connection's outbound buffer is over its limit.
    mutating func publish(payloadBytes: Int, commandBytes: Int, writable: Bool = true) -> PublishAction {
        if let limit = serverMaxPayload, payloadBytes > limit {
            return .reject(.payloadTooLarge(size: payloadBytes, limit: limit))
        }
        switch phase {
        case .connected:
            return writable ? .write : .reject(.outboundBufferFull(limit: settings.maximumPendingWriteBytes))
        case .idle:
            return .reject(.notConnected)
        case .closed:
            return .reject(.closed)
        case .connecting, .handshaking, .waitingToReconnect:
            guard everConnected else { return .reject(.notConnected) }
            guard bufferedBytes + commandBytes <= settings.reconnectBufferBytes else {
                return .reject(.reconnectBufferFull(buffered: bufferedBytes, limit: settings.reconnectBufferBytes))
            }
            bufferedBytes += commandBytes
            return .buffer
        }
    }

    /// The user closed the client: returns true when a channel may be open and is to be closed.
    mutating func close() -> Bool {
        let hadChannel: Bool
        switch phase {
        case .connecting, .handshaking, .connected: hadChannel = true
        case .closed: return false
        default: hadChannel = false
        }
        phase = .closed(nil)
        bufferedBytes = 0
        return hadChannel
    }

    private mutating func attemptFailed(_ error: NATSError, now: NIODeadline) -> ConnectAction {
        failedAttempts += 1
        lastFailure = nil
        if !everConnected {
            guard failedAttempts < servers.count else {
                phase = .closed(error)
                return .giveUp(error)
            }
            serverIndex = (serverIndex + 1) % servers.count
            phase = .connecting(servers[serverIndex])
            return .connect(servers[serverIndex])
        }
        if let maximum = settings.maximumReconnectAttempts, failedAttempts >= maximum {
            phase = .closed(error)
            return .giveUp(error)
        }
        serverIndex = (serverIndex + 1) % servers.count
        let at = now + backoff(afterFailures: failedAttempts)
        phase = .waitingToReconnect(until: at)
        return .scheduleReconnect(at: at)
    }

    /// The reconnect delay after `failures` failed attempts: doubling from the first, capped.
    func backoff(afterFailures failures: Int) -> TimeAmount {
        let exponent = min(failures, 20)
        let delay = settings.reconnectDelay.nanoseconds.multipliedReportingOverflow(by: Int64(1) << exponent)
        if delay.overflow { return settings.maximumReconnectDelay }
        return .nanoseconds(min(delay.partialValue, settings.maximumReconnectDelay.nanoseconds))
    }
}
