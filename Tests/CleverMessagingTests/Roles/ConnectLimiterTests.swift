import NIOConcurrencyHelpers
import Testing

@testable import CleverMessaging

/// ``ConnectLimiter``: bounded attempts in flight, FIFO hand-over, cancellation while waiting.
@Suite("Connect limiter", .timeLimit(.minutes(1)))
struct ConnectLimiterTests {
    @Test("never more than maximumInFlight attempts run at once, and all of them run")
    func bounded() async throws {
        let limiter = ConnectLimiter(maximumInFlight: 3)
        let counts = NIOLockedValueBox((now: 0, peak: 0, done: 0))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    try await limiter.run {
                        counts.withLockedValue { c in
                            c.now += 1
                            c.peak = max(c.peak, c.now)
                        }
                        // Lets the other attempts run meanwhile (no real time needed).
                        await Task.yield()
                        counts.withLockedValue { c in
                            c.now -= 1
                            c.done += 1
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let final = counts.withLockedValue { $0 }
        #expect(final.done == 40)
        #expect(final.peak <= 3)
        #expect(final.peak >= 1)
    }

    @Test("a waiter cancelled before its turn throws CancellationError and does not take a permit")
    func cancelledWaiter() async throws {
        let limiter = ConnectLimiter(maximumInFlight: 1)
        let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await limiter.run {
                startedContinuation.yield()
                for await _ in release { break }
            }
        }
        for await _ in started { break }
        let waiter = Task { try await limiter.run { 1 } }
        #expect(await limiter.changes.wait(timeout: .seconds(10)) { limiter.waiting == 1 })
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        releaseContinuation.yield()
        try await holder.value
        // The permit came back: a new attempt runs at once.
        #expect(try await limiter.run { 2 } == 2)
    }

    @Test("a task already cancelled when it starts waiting throws CancellationError and does not queue")
    func cancelledBeforeWaiting() async throws {
        let limiter = ConnectLimiter(maximumInFlight: 1)
        let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await limiter.run {
                startedContinuation.yield()
                for await _ in release { break }
            }
        }
        for await _ in started { break }
        #expect(limiter.inFlight == 1)
        // Its cancellation handler runs before it could queue a continuation.
        let waiter = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await limiter.run { 1 }
        }
        await #expect(throws: CancellationError.self) { try await waiter.value }
        releaseContinuation.yield()
        try await holder.value
        #expect(limiter.inFlight == 0)
        #expect(try await limiter.run { 2 } == 2)
    }
}
