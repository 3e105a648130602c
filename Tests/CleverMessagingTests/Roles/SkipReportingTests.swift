import CleverMessaging
import Testing

/// A ground station's broadcast and requestAll over loopback report every
/// drone they did not reach, and with a queue time reach a drone that comes back.
@Suite("Ground station: no silent skips", .timeLimit(.minutes(1)))
struct SkipReportingTests {
    typealias LedFill = GroundStationAPITests.LedFill

    /// A fleet whose drones can be stopped and started one by one.
    final class Fleet: Sendable {
        let station: GroundStation
        let port: Int
        /// The fills the drones receive (`land` is a fill of -1s).
        let fills: AsyncStream<(String, LedFill)>
        let sink: AsyncStream<(String, LedFill)>.Continuation
        /// The drones asked for `asked`, in the order they were asked.
        let asked: AsyncStream<String>
        let askedSink: AsyncStream<String>.Continuation

        init(station: GroundStation, port: Int) {
            self.station = station
            self.port = port
            (fills, sink) = AsyncStream<(String, LedFill)>.makeStream()
            (asked, askedSink) = AsyncStream<String>.makeStream()
        }

        /// A drone answering `id`, `clover_dir`, `plain` and `asked` (its id,
        /// saying it was asked), recording the fills it receives.
        func drone(_ id: String) -> MessagingClient {
            let registry = HandlerRegistry()
            registry.onRequest("id") { _, _, _ in .string(id) }
            registry.onRequest("clover_dir") { _, _, _ in "/home/pi" }
            registry.onRequest("plain") { _, _, _ in .string("plain-\(id)") }
            registry.onRequest("asked") { [askedSink] _, _, _ in
                askedSink.yield(id)
                return .string(id)
            }
            registry.onAction("led_fill", decoding: LedFill.self) { [sink] _, fill in sink.yield((id, fill)) }
            registry.onAction("land") { [sink] _, _, _ in sink.yield((id, LedFill(r: -1, g: -1, b: -1))) }
            return MessagingClient(host: "127.0.0.1", port: port, registry: registry, reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(50)))
        }

        /// The next `count` drones asked for `asked`.
        func nextAsked(_ count: Int) async -> Set<String> {
            var seen: Set<String> = []
            for await id in asked {
                seen.insert(id)
                if seen.count == count { break }
            }
            return seen
        }
    }

    /// Runs drones `a`, `b`, `c`, then stops `c` (it stays known, disconnected) and runs `body`.
    static func withOneDropped(_ body: @Sendable (Fleet) async throws -> Void) async throws {
        try await GroundStationTests.withStation { station, port in
            let fleet = Fleet(station: station, port: port)
            let clients = ["a", "b", "c"].map { fleet.drone($0) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in clients { group.addTask { try await client.run() } }
                try await station.waitForDrones(3, timeout: .seconds(30))
                // From now on: a link replaced while connecting says `disconnected` too.
                let events = station.events()
                clients[2].shutdown()
                for await event in events {
                    if case .disconnected(let drone) = event, drone.id == "c" { break }
                }
                #expect(station.connectedIDs == ["a", "b"])
                try await body(fleet)
                for client in clients { client.shutdown() }
                try await group.waitForAll()
            }
        }
    }

    @Test("broadcast to all: the connected drones are sent to, the dropped one is reported disconnected")
    func broadcastReportsTheDroppedDrone() async throws {
        try await Self.withOneDropped { fleet in
            let results = try await fleet.station.broadcast("led_fill", arguments: LedFill(r: 1, g: 2, b: 3))
            #expect(results.map(\.droneID) == ["a", "b", "c"])
            #expect(results.succeeded == ["a", "b"])
            #expect(results.skipped.map(\.droneID) == ["c"])
            #expect(results.skipped.map(\.reason) == [.disconnected])
            #expect(results.tally.summary("sent to") == "sent to 2 of 3; 1 disconnected: c")
            #expect(await GroundStationAPITests.take(2, from: fleet.fills).keys.sorted() == ["a", "b"])

            let named = try await fleet.station.send("land", to: ["c", "ghost", "a"])
            #expect(named.skipped.map(\.reason) == [.disconnected, .unknown])
            #expect(named.succeeded == ["a"])
        }
    }

    @Test("requestAll over all: answers from the connected drones, the dropped one reported disconnected, an unknown id unknown")
    func requestAllReportsTheDroppedDrone() async throws {
        try await Self.withOneDropped { fleet in
            let all = await fleet.station.requestAll("plain", as: String.self, timeout: .seconds(5))
            #expect(all.map(\.droneID) == ["a", "b", "c"])
            #expect(all.values.map(\.value) == ["plain-a", "plain-b"])
            #expect(all.skipped.map(\.reason) == [.disconnected])
            #expect(all.tally.summary("answered") == "answered 2 of 3; 1 disconnected: c")

            let named = await fleet.station.requestAll("no_such_value", args: [], kwargs: [:], from: ["ghost", "b", "c"], timeout: .seconds(5))
            #expect(named.map(\.droneID) == ["ghost", "b", "c"])
            #expect(named.skipped.map(\.reason) == [.unknown, .remoteError, .disconnected])
        }
    }

    @Test("with a queue time, a disconnected drone that comes back in time is sent to and asked; one that does not is reported")
    func queueWaitsForTheDroneToComeBack() async throws {
        try await Self.withOneDropped { fleet in
            // Not back within the queue time: reported, after waiting.
            let missed = try await fleet.station.broadcast("land", waitingUpTo: .milliseconds(50))
            #expect(missed.skipped.map(\.droneID) == ["c"])
            #expect(await GroundStationAPITests.take(2, from: fleet.fills).keys.sorted() == ["a", "b"])

            try await withThrowingTaskGroup(of: Void.self) { group in
                async let sent = fleet.station.broadcast("led_fill", arguments: LedFill(r: 4, g: 5, b: 6), waitingUpTo: .seconds(20))
                // a and b have theirs at once; then c comes back and gets it too.
                #expect(await GroundStationAPITests.take(2, from: fleet.fills).keys.sorted() == ["a", "b"])
                let comeback = fleet.drone("c")
                group.addTask { try await comeback.run() }
                #expect(await GroundStationAPITests.take(1, from: fleet.fills) == ["c": LedFill(r: 4, g: 5, b: 6)])
                let results = try await sent
                #expect(results.allSucceeded)
                #expect(results.succeeded == ["a", "b", "c"])

                let asked = await fleet.station.requestAll("plain", as: String.self, timeout: .seconds(5), waitingUpTo: .seconds(5))
                #expect(asked.values.map(\.value) == ["plain-a", "plain-b", "plain-c"])
                comeback.shutdown()
                try await group.waitForAll()
            }
        }
    }

    @Test("requestAll with a queue time asks a disconnected drone once it is identified again")
    func requestAllWaitsForTheDroneToComeBack() async throws {
        try await Self.withOneDropped { fleet in
            try await withThrowingTaskGroup(of: Void.self) { group in
                async let answers = fleet.station.requestAll("asked", from: ["c", "a", "b"], as: String.self, timeout: .seconds(5), waitingUpTo: .seconds(20))
                // a and b are asked at once, so c was looked up while it was away; then it comes back.
                #expect(await fleet.nextAsked(2) == ["a", "b"])
                let comeback = fleet.drone("c")
                group.addTask { try await comeback.run() }
                let results = await answers
                #expect(results.map(\.droneID) == ["c", "a", "b"])
                #expect(results.values.map(\.value) == ["c", "a", "b"])
                #expect(await fleet.nextAsked(1) == ["c"])
                comeback.shutdown()
                try await group.waitForAll()
            }
        }
    }
}
