import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import CleverMessaging

/// Handler work in the task group of `Connection.run()`, and the fallback without it.
@Suite("Connection.run(): structured handler tasks", .timeLimit(.minutes(1)))
struct StructuredHandlerTests {
    func connection() -> Connection {
        Connection(eventLoop: MultiThreadedEventLoopGroup.singleton.next(), registry: HandlerRegistry())
    }

    @Test("run() returns only once the connection is closed and its handlers have ended")
    func runOutlivesHandlers() async throws {
        let connection = connection()
        let log = NIOLockedValueBox<[String]>([])
        let running = Task {
            await connection.run()
            log.withLockedValue { $0.append("run returned") }
        }
        // Until run() takes work, a handler would run on its own: wait for it to start.
        while !connection.handlerTasks.submitsToRun { await Task.yield() }
        let started = AsyncStream<Void>.makeStream()
        let release = AsyncStream<Void>.makeStream()
        connection.eventLoop.execute {
            connection.runHandlerTask {
                started.continuation.yield()
                // Still running when the connection closes: it ends only when released below.
                var releases = release.stream.makeAsyncIterator()
                _ = await releases.next()
                log.withLockedValue { $0.append("handler ended") }
            }
        }
        var iterator = started.stream.makeAsyncIterator()
        _ = await iterator.next()
        await connection.close()
        release.continuation.yield()
        await running.value
        #expect(log.withLockedValue { $0 } == ["handler ended", "run returned"])
        #expect(connection.state.withLockedValue { $0.handlers.running } == 0)
    }

    @Test("cancelling run() cancels its handlers; work after it runs on its own")
    func cancellation() async throws {
        let connection = connection()
        let cancelled = NIOLockedValueBox(false)
        let running = Task { await connection.run() }
        while !connection.handlerTasks.submitsToRun { await Task.yield() }
        let started = AsyncStream<Void>.makeStream()
        connection.eventLoop.execute {
            connection.runHandlerTask {
                started.continuation.yield()
                // A stream nobody writes to: iterating it ends only when the task is cancelled.
                let silence = AsyncStream<Void>.makeStream()
                for await _ in silence.stream {}
                cancelled.withLockedValue { $0 = Task.isCancelled }
                silence.continuation.finish()
            }
        }
        var iterator = started.stream.makeAsyncIterator()
        _ = await iterator.next()
        running.cancel()
        await running.value
        #expect(cancelled.withLockedValue { $0 })

        let ran = AsyncStream<Void>.makeStream()
        connection.eventLoop.execute { connection.runHandlerTask { ran.continuation.yield() } }
        var ranIterator = ran.stream.makeAsyncIterator()
        _ = await ranIterator.next()
        await connection.close()
    }

    @Test("without run(), handlers still run (the fallback for roles that do not call it); run() after close returns at once")
    func fallback() async throws {
        let connection = connection()
        let ran = AsyncStream<Void>.makeStream()
        connection.eventLoop.execute { connection.runHandlerTask { ran.continuation.yield() } }
        var iterator = ran.stream.makeAsyncIterator()
        _ = await iterator.next()
        await connection.close()
        await connection.run()
    }
}
