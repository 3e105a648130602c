import CleverBridge
import CleverMessaging
import CleverNATS
import CleverTestSupport
import NIOCore
import Testing

/// Stations bridged onto real `nats-server` processes on loopback, with in-process drones.
@Suite(.serialized, .needsNATSServer, .timeLimit(.minutes(2)))
struct StationBridgeTests {
    typealias Kit = BridgeTestKit

    @Test func twoStationsOfAHundredDronesActAsOneFleet() async throws {
        let server = try await NATSServerProcess()
        defer { server.stop() }
        try await Kit.withStations(["north", "south"], drones: 100, nats: [server.url]) { stations in
            let console = try Kit.natsClient([server.url], name: "console")
            try await console.connect()
            defer { Task { await console.close() } }

            // clever.discover: every station answers with its drones (the same ids at both: `station/drone` is unique).
            let found = try await Kit.collect(FleetStationStatus.self, from: console, subject: FleetSubjects.discover, count: 2)
            #expect(Set(found.map(\.station)) == ["north", "south"])
            let fleet = found.flatMap { status in status.drones.filter(\.connected).map { "\(status.station)/\($0.id)" } }
            #expect(Set(fleet).count == 200)

            // An action to `all` at both stations reaches every drone; asked for a reply, it says who.
            for bridged in stations {
                try await console.publish(Kit.encode(FleetArguments()), to: FleetSubjects.action("go", station: bridged.name, drone: "all"))
            }
            for bridged in stations { #expect(await bridged.actions.wait(for: "go", count: 100) == 100) }
            let sent = try await Kit.request(
                FleetStartReply.self, from: console, subject: FleetSubjects.action("led", station: "north", drone: "all"),
                FleetArguments(kwargs: ["r": 255]))
            #expect(sent.succeeded.count == 100 && sent.failed.isEmpty)

            // A request to each of the 200 drones, all at once: 200 replies.
            let replies = try await withThrowingTaskGroup(of: FleetReply.self) { group in
                for bridged in stations {
                    for id in bridged.ids {
                        group.addTask {
                            try await Kit.request(
                                FleetReply.self, from: console,
                                subject: FleetSubjects.request("telemetry", station: bridged.name, drone: id), FleetArguments())
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.count == 200)
            #expect(replies.allSatisfy { $0.error == nil && $0.value?["battery"] == 12.5 })

            // A drone the station has never seen, and one request that times out, are typed errors.
            let unknown = try await Kit.request(
                FleetReply.self, from: console, subject: FleetSubjects.request("telemetry", station: "north", drone: "ghost"), FleetArguments())
            #expect(unknown.error?.code == "unknown_drone")
            let refused = try await Kit.request(
                FleetReply.self, from: console, subject: FleetSubjects.request("nothing", station: "north", drone: "d000"), FleetArguments())
            #expect(refused.value == nil && refused.error != nil)

            // A timed start through each station's `start`, on its own clock: acknowledged by all, run by all.
            let time = try await Kit.request(FleetTime.self, from: console, subject: FleetSubjects.time(station: "north"), FleetArguments())
            // A lead that a loaded machine's 200 acknowledgements fit in (a start whose instant passed is not taken).
            let start = FleetStartRequest(time: time.time + 10, action: "show")
            let acknowledgements = try await withThrowingTaskGroup(of: FleetStartReply.self) { group in
                for bridged in stations {
                    group.addTask {
                        try await Kit.request(FleetStartReply.self, from: console, subject: FleetSubjects.start(station: bridged.name), start)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(acknowledgements.map(\.succeeded.count) == [100, 100])
            #expect(acknowledgements.allSatisfy { $0.failed.isEmpty })
            for bridged in stations { #expect(await bridged.actions.wait(for: "show", count: 100) == 100) }

            let status = try await Kit.request(
                FleetStationStatus.self, from: console, subject: FleetSubjects.status(station: "south"), FleetArguments())
            #expect(status.drones.map(\.id) == stations[1].ids)
        }
    }

    @Test func aDroneEventAndTelemetryCrossNATS() async throws {
        let server = try await NATSServerProcess()
        defer { server.stop() }
        let console = try Kit.natsClient([server.url], name: "console")
        try await console.connect()
        defer { Task { await console.close() } }
        let events = try await console.subscribe(to: FleetSubjects.events(station: "west"))
        try await console.flush()
        try await Kit.withStations(["west"], drones: 3, nats: [server.url]) { stations in
            // A drone pushes telemetry 20 times in 100 ms: it crosses NATS once per interval, the latest record.
            let connection = stations[0].drones[0].connection
            for index in 0..<20 { _ = try await connection.send("telemetry", kwargs: ["value": ["n": .integer(index)]]) }
            var joined = Set<String>()
            var telemetry: JSONValue?
            for try await message in events {
                if message.subject.hasSuffix(".joined") { joined.insert(try Kit.decode(FleetDroneEvent.self, message.payload).drone) }
                if message.subject == FleetSubjects.event(.telemetry, station: "west", drone: "d000") {
                    telemetry = try Kit.decode(JSONValue.self, message.payload)
                    if telemetry?["n"] == 19 { break }
                }
            }
            #expect(joined == ["d000", "d001", "d002"])
            #expect(telemetry?["n"] == 19)
            #expect(stations[0].bridge.statistics.telemetryPublished < 20)

            // A clock offset measured, and a file push's results, cross NATS too.
            let offset = try await stations[0].station.measureClock(of: "d001")
            let results = DroneResults<FileTransferResult>([
                .init(droneID: "d002", result: .failure(.checksumMismatch(expected: "aa", actual: "bb"))),
            ])
            await stations[0].bridge.publishFileResults(results, path: "animation.csv")
            var clock: FleetClockEvent?
            var file: FleetFileEvent?
            for try await message in events {
                if message.subject == FleetSubjects.event(.clock, station: "west", drone: "d001") {
                    clock = try Kit.decode(FleetClockEvent.self, message.payload)
                }
                if message.subject == FleetSubjects.event(.file, station: "west", drone: "d002") {
                    file = try Kit.decode(FleetFileEvent.self, message.payload)
                }
                if clock != nil, file != nil { break }
            }
            #expect(abs((clock?.offsetMilliseconds ?? .infinity) - offset.offset.inMilliseconds) < 1e-6)
            #expect(file?.succeeded == false && file?.error?.code == "checksum_mismatch" && file?.path == "animation.csv")
        }
    }
}
