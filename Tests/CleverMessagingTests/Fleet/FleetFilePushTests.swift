@testable import CleverMessaging
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// ``GroundStation/pushFile(_:to:drones:maximumConcurrent:acknowledgementTimeout:progress:)``:
/// one file to many in-process drones over loopback, each copy verified, a
/// failing drone failing alone, the concurrency bound kept, progress summed right.
@Suite("Fleet: one file to many drones", .timeLimit(.minutes(1)))
struct FleetFilePushTests {
    /// A drone answering `id`, with its files confined to `root` (none: every push refused).
    static func drone(_ id: String, port: Int, root: String?) throws -> MessagingClient {
        let registry = HandlerRegistry()
        registry.onRequest("id") { _, _, _ in .string(id) }
        var configuration = ConnectionConfiguration()
        configuration.filePolicy = try root.map { try FilePolicy(allowedRoots: [$0]) }
        return MessagingClient(
            host: "127.0.0.1", port: port, registry: registry, configuration: configuration,
            reconnectPolicy: ReconnectPolicy(initialDelay: .milliseconds(50))
        )
    }

    /// Runs a station and drones `ids` (each with its own directory under `work`,
    /// except those in `refusing`), the drones in `proxied` linked through one
    /// ``FaultProxy``, until `body` returns.
    static func withFleet(
        _ ids: [String],
        refusing: Set<String> = [],
        proxied: Set<String> = [],
        in work: TemporaryDirectory,
        _ body: (GroundStation, FaultProxy?) async throws -> Void
    ) async throws {
        try await GroundStationTests.withStation { station, port in
            let proxy = proxied.isEmpty ? nil : try await FaultProxy.start(to: try await station.server.localAddress())
            let proxyPort = proxy.map { $0.port }
            let clients = try ids.map { id in
                work.write("\(id)/.keep", [])
                let linkPort = proxied.contains(id) ? proxyPort! : port
                return try Self.drone(id, port: linkPort, root: refusing.contains(id) ? nil : work.file(id))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in clients { group.addTask { try await client.run() } }
                try await station.waitForDrones(ids.count, timeout: .seconds(30))
                // Every drone has answered `id`: each is known to speak the extensions (pushes are acknowledged).
                try await body(station, proxy)
                for client in clients { client.shutdown() }
                try await group.waitForAll()
            }
            await proxy?.close()
        }
    }

    @Test("a file reaches every drone, each copy verified on disk; progress adds up; drones in the given order", arguments: [false, true])
    func reachesEveryDrone(streamedFromDisk: Bool) async throws {
        let work = TemporaryDirectory("fleet-push")
        defer { work.remove() }
        let bytes = sampleBytes(count: 3 * 1024 * 1024 + 5)
        work.write("show.bin", bytes)
        let ids = (1...8).map { "copter-\($0)" }
        try await Self.withFleet(ids, in: work) { station, _ in
            let reports = NIOLockedValueBox<[FilePushProgress]>([])
            let results = try await station.pushFile(
                work.file("show.bin"), to: "shows/show.bin", drones: ids.reversed(), maximumConcurrent: 32,
                acknowledgementTimeout: .seconds(30), inMemoryLimit: streamedFromDisk ? 0 : 16 << 20,
                progress: { report in reports.withLockedValue { $0.append(report) } }
            )
            #expect(results.map(\.droneID) == ids.reversed())
            #expect(results.allSucceeded, "\(results.failures)")
            let digest = FileTransferTests.sha256(bytes)
            for (id, result) in results.values {
                #expect(result.delivery == .acknowledged, "\(id)")
                #expect(result.sha256 == digest, "\(id)")
                #expect(result.bytes == Int64(bytes.count))
                #expect(work.read("\(id)/shows/show.bin") == bytes, "\(id)")
            }
            let all = reports.withLockedValue { $0 }
            let last = try #require(all.last)
            #expect(last.bytesDone == Int64(bytes.count * ids.count))
            #expect(last.totalBytes == Int64(bytes.count * ids.count))
            #expect(last.dronesDone == ids.count && last.drones == ids.count && last.dronesFailed == 0 && last.inFlight == 0)
            // Reported in order: neither bytes nor drones ever go back.
            #expect(zip(all, all.dropFirst()).allSatisfy { $0.bytesDone <= $1.bytesDone && $0.dronesDone <= $1.dronesDone })
        }
    }

    @Test("no more pushes in flight than the bound; all of them run")
    func concurrencyBound() async throws {
        let work = TemporaryDirectory("fleet-push-bound")
        defer { work.remove() }
        let bytes = sampleBytes(count: 256 * 1024)
        work.write("show.bin", bytes)
        let ids = (1...12).map { "d\($0)" }
        try await Self.withFleet(ids, in: work) { station, _ in
            let peak = NIOLockedValueBox(0)
            let results = try await station.pushFile(work.file("show.bin"), to: "show.bin", maximumConcurrent: 3) { report in
                peak.withLockedValue { $0 = max($0, report.inFlight) }
            }
            #expect(results.allSucceeded, "\(results.failures)")
            // Every drone the station knows, sorted by id.
            #expect(results.map(\.droneID) == ids.sorted())
            #expect(peak.withLockedValue { $0 } == 3)
            for id in ids { #expect(work.read("\(id)/show.bin") == bytes, "\(id)") }
        }
    }

    @Test("a drone that refuses and one that vanishes mid-file fail alone; the others get the file")
    func failuresStayAlone() async throws {
        let work = TemporaryDirectory("fleet-push-failures")
        defer { work.remove() }
        let bytes = sampleBytes(count: 8 * 1024 * 1024)
        work.write("show.bin", bytes)
        let ids = ["a", "b", "c", "gone", "refuses"]
        try await Self.withFleet(ids, refusing: ["refuses"], proxied: ["gone"], in: work) { station, proxy in
            let proxy = try #require(proxy)
            // The proxied drone takes its bytes slowly, so that its link is cut mid-file.
            proxy.throttle(upstream: nil, downstream: 256 * 1024)
            let (reports, continuation) = AsyncStream<FilePushProgress>.makeStream()
            async let pushed = station.pushFile(work.file("show.bin"), to: "show.bin", drones: ids + ["ghost"]) { continuation.yield($0) }
            // Cut once the drones that can finish have finished (three copies, a refusal, the unknown drone).
            for await report in reports where report.dronesDone >= 5 { break }
            proxy.cutAll()
            let results = try await pushed
            continuation.finish()
            #expect(results.succeeded == ["a", "b", "c"])
            for id in ["a", "b", "c"] { #expect(work.read("\(id)/show.bin") == bytes, "\(id)") }
            guard case .failure(.remote(let refusal))? = results[droneID: "refuses"] else {
                Issue.record("refuses: \(String(describing: results[droneID: "refuses"]))")
                return
            }
            #expect(refusal.code == RemoteError.Code.fileRefused)
            let gone = try #require(results[droneID: "gone"])
            #expect(throws: MessagingError.self) { try gone.get() }
            #expect(results.notConnected == ["ghost"])
            #expect(work.read("gone/show.bin") == nil)
        }
    }

    @Test("a local file that cannot be read fails the call before any drone is sent anything")
    func missingLocalFile() async throws {
        let work = TemporaryDirectory("fleet-push-missing")
        defer { work.remove() }
        try await Self.withFleet(["a"], in: work) { station, _ in
            await #expect(throws: MessagingError.self) {
                _ = try await station.pushFile(work.file("nope.bin"), to: "nope.bin")
            }
        }
    }

    @Test("the tally: per-transfer bytes summed without double counting, drones counted once")
    func tally() {
        let seen = NIOLockedValueBox<[FilePushProgress]>([])
        let tally = FilePushTally(drones: 3, totalBytes: 200) { report in seen.withLockedValue { $0.append(report) } }
        tally.finished(2, failed: true, running: false)
        tally.started(0)
        tally.started(1)
        tally.progressed(0, bytesDone: 40)
        tally.progressed(1, bytesDone: 30)
        tally.progressed(0, bytesDone: 40)  // no news: not reported
        tally.progressed(0, bytesDone: 100)
        tally.finished(0, failed: false)
        tally.progressed(1, bytesDone: 60)
        tally.finished(1, failed: true)
        let reports = seen.withLockedValue { $0 }
        #expect(reports.map(\.bytesDone) == [0, 0, 0, 40, 70, 130, 130, 160, 160])
        #expect(reports.map(\.inFlight) == [0, 1, 2, 2, 2, 2, 1, 1, 0])
        #expect(reports.map(\.dronesDone) == [1, 1, 1, 1, 1, 1, 2, 2, 3])
        #expect(tally.report == FilePushProgress(bytesDone: 160, totalBytes: 200, dronesDone: 3, dronesFailed: 2, drones: 3, inFlight: 0))
    }
}
