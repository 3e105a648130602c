import NIOConcurrencyHelpers
import Testing

@testable import CleverMessaging

/// A send whose drone's link drops between the look-up and the write (nothing
/// was sent) goes again on the drone's next link, within its queue time;
/// requests are never tried again (their reply alone may have been lost).
@Suite("Ground station: a link that drops under a send", .timeLimit(.minutes(1)))
struct DroppedLinkRetryTests {
    /// Runs `body` with a station and one Swift drone `a` connected to it.
    static func withDrone(_ body: @Sendable (GroundStation, MessagingClient) async throws -> Void) async throws {
        try await GroundStationTests.withStation { station, port in
            let drone = GroundStationTests.drone("a", port: port)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await drone.run() }
                _ = try await station.waitForDrones(1, timeout: .seconds(30))
                try await body(station, drone)
                drone.shutdown()
                try await group.waitForAll()
            }
        }
    }

    @Test("the attempt that found the link dropping is made again on the drone's next link")
    func retriedOnNextLink() async throws {
        try await Self.withDrone { station, drone in
            let first = try #require(station.connection(for: "a"))
            let attempts = NIOLockedValueBox<[Connection]>([])
            let results = await station.reach(station.targets(["a"]), waitingUpTo: .seconds(20), retryingDroppedLinks: true) { connections -> [Result<Int, MessagingError>] in
                let count = attempts.withLockedValue { $0.append(contentsOf: connections); return $0.count }
                guard count > 1 else {
                    // The link drops under the first attempt: nothing was sent.
                    drone.connection.dropLink()
                    return [.failure(.connectionLost)]
                }
                return [.success(count)]
            }
            let tried = attempts.withLockedValue { $0 }
            #expect(tried.count == 2)
            #expect(tried.first === first && tried.last !== first, "the second attempt went on the new link")
            guard case .success(2)? = results.first else {
                Issue.record("got \(results)")
                return
            }
        }
    }

    @Test("without retrying (requests), the failure is the result, and no other attempt is made")
    func notRetriedForRequests() async throws {
        try await Self.withDrone { station, drone in
            let attempts = NIOLockedValueBox(0)
            let results = await station.reach(station.targets(["a"]), waitingUpTo: .seconds(20)) { _ -> [Result<Int, MessagingError>] in
                attempts.withLockedValue { $0 += 1 }
                drone.connection.dropLink()
                return [.failure(.connectionLost)]
            }
            #expect(attempts.withLockedValue { $0 } == 1)
            guard case .failure(.connectionLost)? = results.first else {
                Issue.record("got \(results)")
                return
            }
        }
    }
}
