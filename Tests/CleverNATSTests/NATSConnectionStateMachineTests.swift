import Foundation
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

@Suite struct NATSSubscriptionTableTests {
    @Test func maximumMessagesUnsubscribeByThemselves() {
        var table = NATSSubscriptionTable<String>()
        let sid = table.add(subject: "a", queueGroup: "q", sink: "A")
        #expect(table.unsubscribe(sid: sid, after: 2) == nil)
        #expect(table.replay == [.init(sid: sid, subject: "a", queueGroup: "q", remaining: 2)])
        guard case .deliver("A", last: false) = table.deliver(sid: sid) else { Issue.record("first"); return }
        #expect(table.replay == [.init(sid: sid, subject: "a", queueGroup: "q", remaining: 1)])
        guard case .deliver("A", last: true) = table.deliver(sid: sid) else { Issue.record("last"); return }
        guard case .unknown = table.deliver(sid: sid) else { Issue.record("after"); return }
        #expect(table.count == 0)
    }

    @Test func aMaximumAlreadyReachedEndsNow() {
        var table = NATSSubscriptionTable<Int>()
        let sid = table.add(subject: "a", queueGroup: nil, sink: 1)
        _ = table.deliver(sid: sid)
        _ = table.deliver(sid: sid)
        #expect(table.unsubscribe(sid: sid, after: 2)?.sink == 1)
        #expect(table.count == 0)
        let other = table.add(subject: "b", queueGroup: nil, sink: 2)
        #expect(other != sid)
        #expect(table.unsubscribe(sid: other, after: nil)?.subject == "b")
    }
}

@Suite struct NATSWireFormatTests {
    @Test func publishAndHeaders() throws {
        var buffer = ByteBuffer()
        NATSCommand.writePublish(subject: "a", replyTo: "r", headerBlock: nil, payload: ByteBuffer(string: "hi"), into: &buffer)
        #expect(String(buffer: buffer) == "PUB a r 2\r\nhi\r\n")
        var headers = NATSHeaders()
        headers.add("1", for: "X-Id")
        let block = try headers.encoded()
        buffer.clear()
        NATSCommand.writePublish(subject: "a", replyTo: nil, headerBlock: block, payload: ByteBuffer(string: "hi"), into: &buffer)
        #expect(String(buffer: buffer) == "HPUB a 21 23\r\nNATS/1.0\r\nX-Id: 1\r\n\r\nhi\r\n")
        let parsed = try NATSHeaders.parse(Array(block.utf8))
        #expect(parsed["x-id"] == "1")
        headers.add("bad\r\nvalue", for: "Y")
        #expect(throws: NATSError.self) { try headers.encoded() }
        #expect(throws: NATSError.self) { try NATSCommand.validate(subject: "a b") }
        #expect(throws: NATSError.self) { try NATSCommand.validate(subject: "") }
    }

    @Test func serverAddresses() throws {
        let plain = try NATSServerAddress(parsing: "nats://127.0.0.1:4333")
        #expect(plain == NATSServerAddress(host: "127.0.0.1", port: 4333))
        let secure = try NATSServerAddress(parsing: "tls://joe:pw@example.com")
        #expect(secure.tls && secure.host == "example.com" && secure.port == 4222)
        #expect(secure.user == "joe" && secure.password == "pw")
        #expect(try NATSServerAddress(parsing: "[::1]:5000").host == "::1")
        #expect(try NATSServerAddress(parsing: "127.0.0.1:4223").port == 4223)
        for bad in ["http://x:1", "nats://:4222", "x:0", "x:y", "[::1"] {
            #expect(throws: NATSError.self, "\(bad)") { _ = try NATSServerAddress(parsing: bad) }
        }
    }

    @Test func errorsHaveStableCodesAndAreCodable() throws {
        let error = NATSError.reconnectBufferFull(buffered: 10, limit: 20)
        #expect(error.code.rawValue == "nats_reconnect_buffer_full")
        let data = try JSONEncoder().encode(error)
        #expect(try JSONDecoder().decode(NATSError.self, from: data) == error)
    }
}
