import NIOCore
import Testing

@testable import CleverNATS

@Suite struct NATSConnectionStateMachineTests {
    let a = NATSServerAddress(host: "127.0.0.1", port: 4222)
    let b = NATSServerAddress(host: "127.0.0.1", port: 4223)
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func machine(
        servers: [NATSServerAddress]? = nil, buffer: Int = 100, attempts: Int? = 3
    ) -> NATSConnectionStateMachine {
        var settings = NATSConnectionStateMachine.Settings(servers: servers ?? [a])
        settings.reconnectDelay = .milliseconds(100)
        settings.maximumReconnectDelay = .milliseconds(350)
        settings.maximumReconnectAttempts = attempts
        settings.reconnectBufferBytes = buffer
        return NATSConnectionStateMachine(settings: settings)
    }

    /// Drives a machine through a whole handshake with `info`.
    func connect(_ machine: inout NATSConnectionStateMachine, info: NATSServerInfo = NATSServerInfo(serverID: "S")) {
        guard case .connect(let server) = machine.start() else { Issue.record("no connect"); return }
        #expect(machine.infoReceived(info) == .sendConnect(server, tls: false))
        #expect(machine.pongReceived() == .connected(server, reconnected: false))
    }

    @Test func handshakeConnectsAfterTheFirstPong() {
        var machine = machine()
        #expect(machine.start() == .connect(a))
        #expect(machine.publish(payloadBytes: 1, commandBytes: 10) == .reject(.notConnected))
        #expect(machine.infoReceived(NATSServerInfo(serverID: "S")) == .sendConnect(a, tls: false))
        #expect(!machine.isConnected)
        #expect(machine.pongReceived() == .connected(a, reconnected: false))
        #expect(machine.isConnected)
        #expect(machine.publish(payloadBytes: 1, commandBytes: 10) == .write)
    }

    @Test func tlsWhenTheServerRequiresIt() {
        var machine = machine()
        _ = machine.start()
        var info = NATSServerInfo(serverID: "S")
        info.tlsRequired = true
        #expect(machine.infoReceived(info) == .sendConnect(a, tls: true))
    }

    @Test func unansweredPingsMakeTheConnectionStale() {
        var machine = machine()
        connect(&machine)
        #expect(machine.pingTimerFired() == .sendPing)
        #expect(machine.pongReceived() == .none)
        #expect(machine.pingTimerFired() == .sendPing)
        #expect(machine.pingTimerFired() == .sendPing)
        #expect(machine.pingTimerFired() == .closeStale(.staleConnection(count: 2)))
    }

    @Test func aDroppedConnectionReconnectsToTheNextServerAfterTheDelay() {
        var machine = machine(servers: [a, b])
        connect(&machine)
        #expect(machine.channelClosed(.connectionLost, now: t0) == .lostConnection(then: .scheduleReconnect(at: t0 + .milliseconds(100))))
        #expect(machine.reconnectTimerFired(now: t0 + .milliseconds(99)) == .none)
        #expect(machine.reconnectTimerFired(now: t0 + .milliseconds(100)) == .connect(b))
        #expect(machine.infoReceived(NATSServerInfo(serverID: "B")) == .sendConnect(b, tls: false))
        #expect(machine.pongReceived() == .connected(b, reconnected: true))
    }

    @Test func failedReconnectsBackOffDoublingUpToTheCapThenGiveUp() {
        var machine = machine(attempts: 4)
        connect(&machine)
        _ = machine.channelClosed(nil, now: t0)
        var now = t0 + .milliseconds(100)
        var delays: [Int64] = []
        for _ in 0..<3 {
            #expect(machine.reconnectTimerFired(now: now) == .connect(a))
            guard case .scheduleReconnect(let at) = machine.connectFailed(.connectFailed(reason: "refused"), now: now)
            else { Issue.record("no reconnect"); return }
            delays.append((at - now).nanoseconds / 1_000_000)
            now = at
        }
        #expect(delays == [200, 350, 350])
        #expect(machine.reconnectTimerFired(now: now) == .connect(a))
        #expect(machine.connectFailed(.connectFailed(reason: "refused"), now: now) == .giveUp(.connectFailed(reason: "refused")))
        #expect(machine.isClosed)
    }

    @Test func theFirstConnectTriesEachServerOnceThenFails() {
        var machine = machine(servers: [a, b])
        #expect(machine.start() == .connect(a))
        #expect(machine.connectFailed(.connectFailed(reason: "a"), now: t0) == .connect(b))
        #expect(machine.connectFailed(.connectFailed(reason: "b"), now: t0) == .giveUp(.connectFailed(reason: "b")))
    }

    @Test func refusedCredentialsFailTheAttemptWithTheirError() {
        var machine = machine()
        _ = machine.start()
        _ = machine.infoReceived(NATSServerInfo(serverID: "S"))
        #expect(machine.errorReceived("Authorization Violation") == .authorizationViolation)
        #expect(
            machine.channelClosed(nil, now: t0)
                == .attemptFailed(.authorizationViolation, then: .giveUp(.authorizationViolation)))
    }

    @Test func otherServerErrorsAreTypedAndKeepTheConnection() {
        var machine = machine()
        connect(&machine)
        #expect(machine.errorReceived("Permissions Violation for Publish to x") == .serverError(message: "Permissions Violation for Publish to x"))
        #expect(machine.isConnected)
        #expect(!NATSConnectionStateMachine.closesConnection("Permissions Violation for Publish to x"))
        #expect(NATSConnectionStateMachine.closesConnection("Stale Connection"))
        #expect(NATSConnectionStateMachine.closesConnection("Maximum Payload Violation"))
    }

    @Test func theClusterAdvertisedServersJoinTheList() {
        var machine = machine()
        connect(&machine, info: NATSServerInfo(serverID: "S", connectURLs: ["127.0.0.1:4223", "127.0.0.1:4222", "bad:port:x"]))
        #expect(machine.servers == [a, b])
        _ = machine.channelClosed(nil, now: t0)
        #expect(machine.reconnectTimerFired(now: t0 + .seconds(1)) == .connect(b))
    }

    @Test func publishesWhileReconnectingAreBufferedUpToTheLimit() {
        var machine = machine(buffer: 100)
        connect(&machine)
        _ = machine.channelClosed(nil, now: t0)
        #expect(machine.publish(payloadBytes: 10, commandBytes: 60) == .buffer)
        #expect(machine.publish(payloadBytes: 10, commandBytes: 40) == .buffer)
        #expect(machine.publish(payloadBytes: 0, commandBytes: 1) == .reject(.reconnectBufferFull(buffered: 100, limit: 100)))
        _ = machine.reconnectTimerFired(now: t0 + .seconds(1))
        _ = machine.infoReceived(NATSServerInfo(serverID: "S"))
        #expect(machine.publish(payloadBytes: 0, commandBytes: 1) == .reject(.reconnectBufferFull(buffered: 100, limit: 100)))
        #expect(machine.pongReceived() == .connected(a, reconnected: true))
        #expect(machine.bufferedBytes == 0)
    }

    @Test func payloadsBeyondTheServersMaximumAreRefused() {
        var machine = machine()
        connect(&machine, info: NATSServerInfo(serverID: "S", maxPayload: 8))
        #expect(machine.publish(payloadBytes: 9, commandBytes: 30) == .reject(.payloadTooLarge(size: 9, limit: 8)))
    }

    @Test func aSlowServerRefusesPublishesWhileTheOutboundBufferIsFull() {
        var machine = machine()
        connect(&machine)
        #expect(
            machine.publish(payloadBytes: 1, commandBytes: 10, writable: false)
                == .reject(.outboundBufferFull(limit: 8 * 1024 * 1024)))
        #expect(machine.publish(payloadBytes: 1, commandBytes: 10, writable: true) == .write)
    }

    @Test func closingEndsEverything() {
        var machine = machine()
        connect(&machine)
        let closed = machine.close()
        #expect(closed)
        #expect(machine.publish(payloadBytes: 1, commandBytes: 10) == .reject(.closed))
        #expect(machine.channelClosed(nil, now: t0) == .none)
        let closedAgain = machine.close()
        #expect(!closedAgain)
    }

    @Test func aSilentServerTimesTheHandshakeOut() {
        var machine = machine()
        _ = machine.start()
        let timedOut = machine.handshakeTimedOut()
        #expect(timedOut)
        #expect(
            machine.channelClosed(nil, now: t0)
                == .attemptFailed(
                    .connectFailed(reason: "the server did not complete the handshake in time"),
                    then: .giveUp(.connectFailed(reason: "the server did not complete the handshake in time"))))
    }
}
