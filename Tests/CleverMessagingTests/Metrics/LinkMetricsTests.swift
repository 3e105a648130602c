import CleverMessaging
import MetricsTestKit
import NIOCore
import NIOPosix
import Testing

/// The library's metrics, published to a test factory (``ConnectionConfiguration/metrics``)
/// by a server and a client of this library over loopback.
@Suite("Metrics: links, frames, requests, files, refusals", .timeLimit(.minutes(1)))
struct LinkMetricsTests {
    static let server = [("role", "server")]
    static let client = [("role", "client")]

    @Test("requests, frames, bytes, a timeout, file bytes and open links move as they happen")
    func trafficIsCounted() async throws {
        let factory = NotifyingMetricsFactory(TestMetrics())
        let metrics = factory.metrics
        var configuration = ConnectionConfiguration()
        configuration.metrics = CleverMetrics(factory: factory)
        try await FileTransferTests.withPair(configuration: configuration, throughProxy: false) { _, server, client, _, _, clientRoot in
            #expect(server.metrics === configuration.metrics)
            #expect(await factory.wait { (try? metrics.expectMeter("clever_links_open", Self.server).lastValue) == 1 })
            #expect(try metrics.expectMeter("clever_links_open", Self.client).lastValue == 1)

            let requestsBefore = metrics.counterTotal(label: "clever_requests_total", dimensions: Self.client)
            for i in 0..<10 { _ = try await client.connection.request("echo", args: [.integer(i)]) }
            // Counted as each flush goes out: the ten, and any the link sent before them that was still unpublished.
            #expect(metrics.counterTotal(label: "clever_requests_total", dimensions: Self.client) - requestsBefore >= 10)
            let durations = try metrics.expectTimer("clever_request_duration_seconds", Self.client).values
            #expect(durations.count >= 10)
            #expect(durations.allSatisfy { $0 >= 0 && $0 < 5_000_000_000 })
            #expect(await factory.wait { metrics.counterTotal(label: "clever_frames_received_total", dimensions: Self.server) >= 10 })
            #expect(await factory.wait { metrics.counterTotal(label: "clever_frames_sent_total", dimensions: Self.server) >= 10 })
            #expect(metrics.counterTotal(label: "clever_frames_received_total", dimensions: Self.client) >= 10)
            #expect(metrics.counterTotal(label: "clever_frames_sent_total", dimensions: Self.client) >= 10)
            // Ten requests of at least 100 bytes each way.
            #expect(metrics.counterTotal(label: "clever_bytes_sent_total", dimensions: Self.client) >= 1000)
            #expect(await factory.wait { metrics.counterTotal(label: "clever_bytes_received_total", dimensions: Self.server) >= 1000 })

            // A request that times out.
            let tag = newSlowTag()
            defer { releaseSlowHandler(tag) }
            await #expect(throws: MessagingError.self) {
                _ = try await client.connection.request("slow", kwargs: ["tag": .string(tag)], timeout: .milliseconds(100))
            }
            #expect(metrics.counterTotal(label: "clever_request_timeouts_total", dimensions: Self.client) == 1)
            #expect(metrics.counterTotal(label: "clever_request_timeouts_total", dimensions: Self.server) == 0)

            // A file pushed: its body's bytes, sent by the client, received by the server.
            let bytes = sampleBytes(count: 200_000)
            clientRoot.write("show.bin", bytes)
            _ = try await client.connection.pushFile(clientRoot.file("show.bin"), to: "show.bin")
            #expect(metrics.counterTotal(label: "clever_file_bytes_total", dimensions: Self.client + [("direction", "sent")]) == 200_000)
            #expect(await factory.wait {
                metrics.counterTotal(label: "clever_file_bytes_total", dimensions: Self.server + [("direction", "received")]) == 200_000
            })
            #expect(metrics.counterTotal(label: "clever_bytes_received_total", dimensions: Self.server) > 200_000)

            // The link goes down: both sides' gauges come back to 0.
            client.shutdown()
            #expect(await factory.wait { (try? metrics.expectMeter("clever_links_open", Self.server).lastValue) == 0 })
            #expect(await factory.wait { (try? metrics.expectMeter("clever_links_open", Self.client).lastValue) == 0 })
            #expect(metrics.counterTotal(label: "clever_links_opened_total", dimensions: Self.server) == 1)
        }
    }

    @Test("a burst of 2,000 actions: every frame counted, in far fewer metric updates than frames")
    func burstsArePublishedInBatches() async throws {
        let factory = NotifyingMetricsFactory(TestMetrics())
        let metrics = factory.metrics
        var configuration = ConnectionConfiguration()
        configuration.metrics = CleverMetrics(factory: factory)
        let registry = makeTestRegistry()
        registry.onAction("tick") { _, _, _ in }
        try await SwiftPairTests.withPair(configuration: configuration, serverRegistry: registry) { _, client, _ in
            let before = metrics.counterTotal(label: "clever_frames_received_total", dimensions: Self.server)
            for _ in 0..<2000 { try client.connection.enqueueMessage("tick") }
            _ = try await client.connection.request("echo")
            #expect(await factory.wait {
                metrics.counterTotal(label: "clever_frames_received_total", dimensions: Self.server) - before >= 2001
            })
            let received = try metrics.expectCounter("clever_frames_received_total", Self.server)
            let sent = try metrics.expectCounter("clever_frames_sent_total", Self.client)
            #expect(sent.totalValue >= 2001)
            // One update per read batch or flush, not per frame.
            #expect(received.values.count < 200, "\(received.values.count) updates")
            #expect(sent.values.count < 200, "\(sent.values.count) updates")
        }
    }

    @Test("a link refused for the connection limit is counted by its reason")
    func refusalsAreCounted() async throws {
        let metrics = TestMetrics()
        var configuration = ConnectionConfiguration()
        configuration.metrics = CleverMetrics(factory: metrics)
        let server = MessagingServer(host: "127.0.0.1", port: 0, registry: makeTestRegistry(), configuration: configuration, maximumConnections: 1)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try #require(try await server.localAddress().port)
            func connect() async throws -> any Channel {
                try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
            }
            let first = try await connect()
            _ = try await server.waitForConnections(1)
            let second = try await connect()
            try await second.closeFuture.get()
            #expect(metrics.counterTotal(label: "clever_links_refused_total", dimensions: [("reason", "too_many_connections")]) == 1)
            try await first.close()
            server.shutdown()
            try await group.waitForAll()
        }
    }

    @Test("clock offsets: a gauge per drone, in seconds, until forgotten")
    func clockOffsets() throws {
        let metrics = TestMetrics()
        let clever = CleverMetrics(factory: metrics)
        clever.recordClockOffset(drone: "copter-1", offset: .milliseconds(250), uncertainty: .microseconds(400))
        clever.recordClockOffset(drone: "copter-2", offset: .milliseconds(-1200), uncertainty: .milliseconds(1))
        #expect(try metrics.expectGauge("clever_clock_offset_seconds", [("drone", "copter-1")]).lastValue == 0.25)
        #expect(try metrics.expectGauge("clever_clock_uncertainty_seconds", [("drone", "copter-1")]).lastValue == 0.0004)
        #expect(try metrics.expectGauge("clever_clock_offset_seconds", [("drone", "copter-2")]).lastValue == -1.2)
        clever.recordClockOffset(drone: "copter-1", offset: .milliseconds(-3), uncertainty: .microseconds(400))
        #expect(try metrics.expectGauge("clever_clock_offset_seconds", [("drone", "copter-1")]).lastValue == -0.003)
        clever.forgetClockOffset(drone: "copter-1")
        #expect(throws: (any Error).self) { try metrics.expectGauge("clever_clock_offset_seconds", [("drone", "copter-1")]) }
        #expect(try metrics.expectGauge("clever_clock_offset_seconds", [("drone", "copter-2")]).lastValue == -1.2)
    }

    @Test("a station publishes each drone's measured clock offset")
    func stationClockOffsets() async throws {
        let metrics = TestMetrics()
        var configuration = ConnectionConfiguration()
        configuration.metrics = CleverMetrics(factory: metrics)
        try await FleetTestKit.withStation(clock: ClockConfiguration(interval: nil, sampleTimeout: .seconds(5)), configuration: configuration) { station, port in
            let drone = FleetTestKit.drone("copter-1", port: port, offset: .milliseconds(250), runs: FleetTestKit.Runs())
            try await FleetTestKit.running([drone]) {
                try await station.waitForDrones(1, timeout: .seconds(30))
                let measured = try await station.measureClock(of: "copter-1")
                let gauge = try metrics.expectGauge("clever_clock_offset_seconds", [("drone", "copter-1")])
                #expect(abs((gauge.lastValue ?? 0) - measured.offset.inSeconds) < 0.001)
                // The true offset, within the measurement's uncertainty (and a millisecond).
                #expect(abs((gauge.lastValue ?? 0) - 0.25) <= measured.uncertainty.inSeconds + 0.001)
            }
        }
    }

    @Test("without a bootstrapped backend the roles publish nothing")
    func noBackendNoMetrics() {
        // Tests never bootstrap the process's MetricsSystem.
        #expect(CleverMetrics.bootstrapped() == nil)
        let server = MessagingServer(host: "127.0.0.1", port: 0, registry: makeTestRegistry())
        #expect(server.metrics == nil)
        let client = MessagingClient(host: "127.0.0.1", port: 1, registry: makeTestRegistry())
        #expect(client.connection.metrics == nil)
    }
}
