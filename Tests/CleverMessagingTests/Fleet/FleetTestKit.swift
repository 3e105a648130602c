import CleverMessaging
import CleverTestSupport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// A station on loopback and in-process drones with skewed clocks, for the fleet tests.
enum FleetTestKit {
    /// One handler call a drone recorded: its id, its own clock as the handler ran, and the kwargs.
    struct Run: Sendable {
        var id: String
        var clock: Double
        var kwargs: JSONObject
    }

    /// Handler calls, in the order they came.
    final class Runs: Sendable {
        private let runs = Watched<[Run]>([])
        func append(_ run: Run) { runs.update { $0.append(run) } }
        var all: [Run] { runs.value }

        /// Waits (woken by each call, up to `timeout`: the handlers run on the drones' clocks) until `count` calls came.
        func wait(for count: Int, timeout: Duration = .seconds(5)) async -> [Run] {
            await runs.wait(timeout: timeout) { $0.count >= count }
            return all
        }
    }

    /// A drone of this library whose clock is `offset` ahead; its `go` handler records when it ran, on its clock.
    static func drone(_ id: String, port: Int, offset: Duration, runs: Runs, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) -> MessagingClient {
        let registry = HandlerRegistry()
        registry.onRequest("id") { _, _, _ in .string(id) }
        registry.onAction("go") { connection, _, kwargs in runs.append(Run(id: id, clock: connection.clockTime, kwargs: kwargs)) }
        registry.onAction("stall") { connection, _, _ in
            // Blocks this drone's event loop, then drops its link: the station's requests meanwhile go unanswered.
            // Real time: the stall must outlast the station's acknowledgement timeout, a real timer on its own
            // event loop (the retry decisions themselves are StartAttempts', tested on explicit instants).
            usleep(300_000)
            connection.dropLink()
        }
        var configuration = ConnectionConfiguration()
        configuration.clockOffset = offset
        return MessagingClient(
            host: "127.0.0.1", port: port, registry: registry, configuration: configuration,
            reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(20)), group: group
        )
    }

    /// A drone like a reference drone: no extensions, answers `id` and `time` (its clock `offset` seconds ahead);
    /// its `go` handler records when the action arrived, on its clock.
    static func referenceDrone(_ id: String, port: Int, offset: Double, runs: Runs) -> MessagingClient {
        let registry = HandlerRegistry()
        registry.onRequest("id") { _, _, _ in .string(id) }
        registry.onRequest("time") { _, _, _ in .double(WallClock.now + offset) }
        registry.onAction("go") { _, _, kwargs in runs.append(Run(id: id, clock: WallClock.now + offset, kwargs: kwargs)) }
        var configuration = ConnectionConfiguration(announceExtensions: false)
        configuration.delivery.isEnabled = false
        configuration.pingInterval = nil
        return MessagingClient(host: "127.0.0.1", port: port, registry: registry, configuration: configuration, reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(20)))
    }

    /// How late a plain timer of `loop`, set for `instant` (the station's clock), fires: what
    /// the machine's load alone makes a handler of that loop late by (a loaded test run can
    /// hold an event loop for tens of milliseconds).
    static func loopLateness(_ loop: any EventLoop, at instant: Double) -> EventLoopFuture<Double> {
        loop.scheduleTask(in: .nanoseconds(Int64(max(0, instant - WallClock.now) * 1e9))) { WallClock.now - instant }.futureResult
    }

    /// Checks that a timed start ran at `instant` on a corrected clock, not on
    /// arrival: never early by more than the offset's uncertainty, and at most
    /// 2 s later than its event loop let a plain timer fire
    /// (``loopLateness(_:at:)``), plus that uncertainty. The tests share their
    /// event loops with every other test running at the same time, so the
    /// bound is loose; the precision itself (a spread of a few milliseconds
    /// over 1,000 drones) is what `clever-msg swarm` measures on a quiet machine.
    static func expectOnTime(_ id: String, late: Double, loopLate: Double, uncertainty: Duration?, sourceLocation: SourceLocation = #_sourceLocation) {
        let slack = (uncertainty ?? .zero).inSeconds + 0.001
        #expect(late > -slack, "\(id) ran \(late * 1000) ms early", sourceLocation: sourceLocation)
        // A loaded parallel run holds a handler past its event loop's own timer: 1.04 s was seen on a
        // 2-core machine also running builds. A start run on arrival instead would be early, not late.
        #expect(late < max(0, loopLate) + 2.0 + slack, "\(id) ran \(late * 1000) ms late (its event loop \(loopLate * 1000) ms)", sourceLocation: sourceLocation)
    }

    /// Runs a station on an ephemeral loopback port until `body` returns (see ``GroundStationTests/withStation(clock:configuration:_:)``).
    static func withStation(
        clock: ClockConfiguration = .init(), configuration: ConnectionConfiguration = .init(),
        _ body: (GroundStation, Int) async throws -> Void
    ) async throws {
        try await GroundStationTests.withStation(clock: clock, configuration: configuration, body)
    }

    /// Runs `clients` until `body` returns, then shuts them down.
    static func running(_ clients: [MessagingClient], _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients { group.addTask { try await client.run() } }
            do {
                try await body()
            } catch {
                for client in clients { client.shutdown() }
                throw error
            }
            for client in clients { client.shutdown() }
            try await group.waitForAll()
        }
    }
}
