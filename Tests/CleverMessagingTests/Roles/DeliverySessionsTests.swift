import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import CleverMessaging

/// A server's table of delivery sessions: given back to the same client's next
/// link, bounded by count and by age, with time as an argument.
@Suite("DeliverySessions")
struct DeliverySessionsTests {
    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    private let loop = EmbeddedEventLoop()

    /// A table whose server's live connections are `live` (found by number).
    private func sessions(_ configuration: DeliveryConfiguration, live: NIOLockedValueBox<[Int: Connection]> = .init([:])) -> DeliverySessions {
        DeliverySessions(configuration: configuration) { number in live.withLockedValue { $0[number] } }
    }

    private func connection() -> Connection {
        Connection(eventLoop: loop, registry: HandlerRegistry())
    }

    /// A session with one unacknowledged action, and its receipt.
    private func session(_ id: String, in sessions: DeliverySessions, received: UInt64 = 0) throws -> (DeliverySession, SendReceipt) {
        var session = DeliverySession(id: id, configuration: sessions.configuration)
        var nothing: Void = ()
        let sequence = try session.window.append(with: &nothing) { _, buffer in buffer.writeString("frame of \(id)") }.sequence
        for sequence in stride(from: 1, through: received, by: 1) { _ = session.receiver.received(sequence: sequence) }
        return (session, SendReceipt(write: nil, ledger: session.ledger, sequence: sequence))
    }

    @Test("the same session id gets its session back, window and high-water mark included")
    func reattach() async throws {
        let sessions = sessions(DeliveryConfiguration())
        let first = connection()
        #expect(sessions.claim("a", for: first, now: start).window.count == 0, "unknown id: a new session")
        let (stored, receipt) = try session("a", in: sessions, received: 7)
        sessions.store(stored, from: first, now: start)
        #expect(sessions.storedCount == 1)
        let back = sessions.claim("a", for: connection(), now: start + .seconds(1))
        #expect(back.window.count == 1)
        #expect(back.receiver.highWater == 7)
        #expect(sessions.storedCount == 0)
        var settle = back
        #expect(settle.window.acknowledge(through: 1) == 1)
        settle.ledger.acknowledge(through: 1)
        #expect(try await receipt.delivered() == .delivered)
    }

    @Test("beyond maximumSessions the session stored longest ago goes, and its receipts fail")
    func boundedByCount() async throws {
        let sessions = sessions(DeliveryConfiguration(maximumSessions: 2))
        var receipts: [SendReceipt] = []
        for (offset, id) in ["a", "b", "c"].enumerated() {
            let (stored, receipt) = try session(id, in: sessions)
            receipts.append(receipt)
            sessions.store(stored, from: connection(), now: start + .seconds(Int64(offset)))
        }
        #expect(sessions.storedCount == 2)
        await #expect(throws: MessagingError.connectionLost) { try await receipts[0].delivered() }
        for id in ["b", "c"] {
            let kept = sessions.claim(id, for: connection(), now: start + .seconds(3))
            #expect(kept.window.count == 1)
        }
        #expect(sessions.claim("a", for: connection(), now: start + .seconds(3)).window.count == 0)
    }

    @Test("a session older than sessionLifetime goes, and its receipts fail")
    func boundedByAge() async throws {
        let sessions = sessions(DeliveryConfiguration(sessionLifetime: .seconds(60)))
        let (old, receipt) = try session("old", in: sessions)
        sessions.store(old, from: connection(), now: start)
        #expect(sessions.claim("other", for: connection(), now: start + .seconds(59)).window.count == 0)
        #expect(sessions.storedCount == 1)
        #expect(sessions.claim("other2", for: connection(), now: start + .seconds(61)).window.count == 0)
        #expect(sessions.storedCount == 0)
        await #expect(throws: MessagingError.connectionLost) { try await receipt.delivered() }
    }

    @Test("a session still attached to a live connection is taken from it")
    func takenFromLiveConnection() throws {
        let table = NIOLockedValueBox<[Int: Connection]>([:])
        let sessions = sessions(DeliveryConfiguration(), live: table)
        let old = Connection(eventLoop: loop, registry: HandlerRegistry(), delivery: .server(sessions))
        table.withLockedValue { $0[old.number] = old }
        let (live, _) = try session("a", in: sessions, received: 4)
        _ = sessions.claim("a", for: old, now: start)
        old.state.withLockedValue { $0.delivery = live }
        let taken = sessions.claim("a", for: connection(), now: start)
        #expect(taken.receiver.highWater == 4)
        #expect(old.deliveryStatistics == DeliveryStatistics())
        #expect(taken.window.count == 1)
    }

    @Test("a link going down and the client's next link claiming the session, in either order: the session survives, its receipts too")
    func linkDownAndClaimInEitherOrder() async throws {
        for claimFirst in [true, false] {
            let table = NIOLockedValueBox<[Int: Connection]>([:])
            let sessions = sessions(DeliveryConfiguration(), live: table)
            let old = Connection(eventLoop: loop, registry: HandlerRegistry(), delivery: .server(sessions))
            table.withLockedValue { $0[old.number] = old }
            let (live, receipt) = try session("a", in: sessions, received: 9)
            _ = sessions.claim("a", for: old, now: start)
            old.state.withLockedValue { $0.delivery = live }
            let next = connection()
            let claimed: DeliverySession
            if claimFirst {
                // The next link's hello came first (another event loop): it takes the session from the old connection...
                claimed = sessions.claim("a", for: next, now: start)
                // ...whose link then goes down with nothing left to store.
                sessions.store(takingFrom: old, now: start)
                #expect(sessions.storedCount == 0)
            } else {
                // The old link went down first: its session is stored, and the next link finds it there.
                sessions.store(takingFrom: old, now: start)
                #expect(sessions.storedCount == 1)
                claimed = sessions.claim("a", for: next, now: start)
            }
            #expect(claimed.receiver.highWater == 9, "claim first: \(claimFirst)")
            #expect(claimed.window.count == 1)
            claimed.ledger.acknowledge(through: 1)
            #expect(try await receipt.delivered() == .delivered)
        }
    }

    @Test("an action queued on a connection whose session was taken goes to the taker, numbered in the session")
    func passedOnToTaker() throws {
        let table = NIOLockedValueBox<[Int: Connection]>([:])
        let sessions = sessions(DeliveryConfiguration(), live: table)
        // Unlinked connections that keep their queue: an action is numbered and waits for a link.
        var configuration = ConnectionConfiguration()
        configuration.resumeQueue = true
        func serverSide() -> Connection {
            let connection = Connection(eventLoop: loop, registry: HandlerRegistry(), configuration: configuration, delivery: .server(sessions))
            table.withLockedValue { $0[connection.number] = connection }
            return connection
        }
        let old = serverSide()
        let (live, _) = try session("a", in: sessions)
        _ = sessions.claim("a", for: old, now: start)
        old.state.withLockedValue { $0.delivery = live }
        let new = serverSide()
        sessions.claim("a", for: new, now: start) { session in new.state.withLockedValue { $0.delivery = session } }

        let receipt = try old.enqueueMessage("step", kwargs: ["n": 1])
        #expect(receipt.guarantee == .delivered)
        #expect(new.deliveryStatistics.sent == 1)
        #expect(new.deliveryStatistics.unacknowledged == 2, "the session's earlier action and this one")
        #expect(old.deliveryStatistics == DeliveryStatistics())
        let (broadcast, needsFlush) = try old.enqueueActionDeferringFlush(
            ByteBuffer(string: "frame"), action: "step", arguments: .values(args: [], kwargs: ["n": 2])
        )
        #expect(broadcast.guarantee == .delivered && !needsFlush)
        #expect(new.deliveryStatistics.sent == 2)

        // The taker gone (its link dropped too, its session back in the table), an action is refused, not sent plainly.
        let session = new.state.withLockedValue { s in
            defer { s.delivery = nil }
            return s.delivery!
        }
        new.startClose()
        #expect(throws: MessagingError.connectionLost) { try old.enqueueMessage("step", kwargs: ["n": 3]) }
        #expect(session.window.count == 3, "the earlier action, the message and the broadcast")
    }
}
