import CleverTestSupport
import NIOCore
import NIOEmbedded
import Testing

@testable import CleverMessaging

/// Send receipts of a connection on a testing channel (no socket, the loop
/// run by hand): a receipt is the number of the write that carries its frame,
/// and something waits only when someone awaits it. The loop is the
/// thread-safe testing one: the tests await between its turns.
@Suite("Connection: send receipts", .timeLimit(.minutes(1)))
struct SendReceiptTests {
    /// A connection on a testing channel of `loop`, its link open.
    private static func link(
        on loop: NIOAsyncTestingEventLoop, configuration: ConnectionConfiguration = .init(),
        reconnecting connection: Connection? = nil
    ) async throws -> (NIOAsyncTestingChannel, Connection) {
        let channel = NIOAsyncTestingChannel(loop: loop)
        let fresh = connection == nil
        let connection = connection ?? Connection(eventLoop: loop, registry: HandlerRegistry(), configuration: configuration)
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 1)
        try await loop.executeInContext {
            try channel.pipeline.syncOperations.addHandler(ConnectionHandler(connection: connection))
            channel.connect(to: address, promise: nil)
        }
        await turn(loop)
        // What a fresh link writes first is not a test's; a reconnected one's is.
        if fresh { _ = try await written(channel) }
        return (channel, connection)
    }

    /// Runs what is due on `loop`, past the burst window of flushes asked from another thread.
    private static func turn(_ loop: NIOAsyncTestingEventLoop) async {
        await loop.advanceTime(by: .milliseconds(1))
    }

    /// Every write the channel made since the last call, joined.
    private static func written(_ channel: NIOAsyncTestingChannel) async throws -> ByteBuffer {
        var all = ByteBuffer()
        while var bytes = try await channel.readOutbound(as: ByteBuffer.self) { all.writeBuffer(&bytes) }
        return all
    }

    /// The number of the write a receipt waits for.
    private static func number(_ receipt: SendReceipt) throws -> UInt64 {
        try #require(receipt.write).number
    }

    /// Gives a task that awaits a receipt of `connection` a chance to start
    /// waiting (without sleeping): a bounded number of yields, so that a loaded
    /// machine cannot turn it into a spin that starves other tests. The tests
    /// hold either way (a receipt awaited after its write completes at once).
    private static func untilAwaited(_ connection: Connection) async {
        var turns = 0
        while turns < 1000, !connection.state.withLockedValue({ $0.receipts.hasWaiters }) {
            turns += 1
            await Task.yield()
        }
    }

    @Test("frames queued before a flush share one write; a receipt awaited after the write returns at once")
    func manyReceiptsPerWrite() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let (channel, connection) = try await Self.link(on: loop)
        // Queued in one turn of the loop: no flush can come between them.
        let receipts = try await loop.executeInContext {
            try (0..<100).map { n in try connection.enqueueMessage("step", kwargs: ["n": .integer(n)]) }
        }
        #expect(Set(try receipts.map(Self.number)).count == 1, "one write carries them all")
        #expect(!connection.state.withLockedValue { $0.receipts.hasWaiters }, "nothing waits: nothing was made")
        await Self.turn(loop)
        for receipt in receipts { try await receipt.written() }
        let next = try await loop.executeInContext { try connection.enqueueMessage("step") }
        #expect(try Self.number(next) == Self.number(receipts[0]) + 1, "the next frame goes with the next write")
        await Self.turn(loop)
        try await next.written()
        try await connection.flushed()
        _ = try? await channel.finish()
    }

    @Test("receipts awaited before their writes complete in order, as the writes go out")
    func inOrder() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let (channel, connection) = try await Self.link(on: loop)
        let order = Watched<[Int]>([])
        let first = try connection.enqueueMessage("step", kwargs: ["n": 1])
        await Self.turn(loop)
        // Queued inside a read batch on the loop: its write waits for the batch's end.
        let second = try await loop.executeInContext {
            connection.readBatchStarted()
            return try connection.enqueueMessage("step", kwargs: ["n": 2])
        }
        let waiting = Task {
            try await second.written()
            order.update { $0.append(2) }
        }
        await Self.untilAwaited(connection)
        try await first.written()
        order.update { $0.append(1) }
        // The batch ends: the second frame's write goes out, and its waiter resumes.
        try await loop.executeInContext { connection.readBatchEnded(now: loop.now, bytesRead: 0) }
        await Self.turn(loop)
        try await waiting.value
        #expect(order.value == [1, 2])
        _ = try? await channel.finish()
    }

    @Test("frames queued when the link is lost (no resumed queue) fail their receipts, awaited before or after")
    func failOnLinkLoss() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let (channel, connection) = try await Self.link(on: loop)
        let written = try connection.enqueueMessage("step", kwargs: ["n": 1])
        await Self.turn(loop)
        // Queued inside a read batch on the loop: its flush waits for the batch's end, which never comes.
        let lost = try await loop.executeInContext {
            connection.readBatchStarted()
            return try connection.enqueueMessage("step", kwargs: ["n": 2])
        }
        let awaited = Task { () -> MessagingError? in
            do throws(MessagingError) {
                try await lost.written()
                return nil
            } catch {
                return error
            }
        }
        await Self.untilAwaited(connection)
        // The link drops before the frame is written.
        try await loop.executeInContext { channel.close(promise: nil) }
        #expect(await awaited.value == MessagingError.connectionLost)
        await #expect(throws: MessagingError.connectionLost) { try await lost.written() }
        try await written.written()
        #expect(throws: MessagingError.notConnected) { try connection.enqueueMessage("step") }
    }

    @Test("a closed connection fails the receipts of what it could not write")
    func closedBeforeWrite() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let connection = Connection(eventLoop: loop, registry: HandlerRegistry(), configuration: .init(resumeQueue: true))
        let queued = try connection.enqueueMessage("step")
        connection.startClose()
        await Self.turn(loop)
        await #expect(throws: MessagingError.closed) { try await queued.written() }
        await #expect(throws: MessagingError.closed) { try await connection.flushed() }
    }

    @Test("with a resumed queue, a receipt of a frame queued on a lost link completes with the next link's write")
    func keptAcrossReconnect() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let (channel, connection) = try await Self.link(on: loop, configuration: .init(resumeQueue: true))
        try await loop.executeInContext { channel.close(promise: nil) }
        await Self.turn(loop)
        let kept = try connection.enqueueMessage("step", kwargs: ["n": 1])
        let waiting = Task { try await kept.written() }
        await Self.untilAwaited(connection)
        let (next, _) = try await Self.link(on: loop, reconnecting: connection)
        try await waiting.value
        #expect(String(buffer: try await Self.written(next)).contains("step"), "the kept frame went with the next link's first write")
        _ = try? await next.finish()
    }
}
