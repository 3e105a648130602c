import CleverMessaging
import CleverNATS
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// Joins a `GroundStation` to a fleet over NATS, under a station name.
///
/// The bridge publishes the station's drone events, each drone's latest
/// telemetry (at most once per ``Configuration/telemetryInterval`` per drone,
/// newer records replacing older ones still waiting), clock offsets and
/// file-transfer results, and serves actions, requests, `status`, `time`,
/// `start` and `clever.discover` (the subjects of ``FleetSubjects``).
///
/// ```swift
/// let client = NATSClient(configuration: try NATSConfiguration(urls: ["nats://127.0.0.1:4222"]))
/// try await client.connect()
/// let bridge = try StationBridge(station: station, client: client, name: "north")
/// try await bridge.run()   // until shutdown(), or a graceful shutdown of its ServiceGroup
/// ```
///
/// Nothing in the station depends on NATS: when the NATS connection drops,
/// the station keeps serving its drones, the client reconnects by itself, and
/// the bridge then publishes `joined` again for every connected drone so that
/// a console rebuilds its view. Each drop and reconnect is logged (at warning)
/// and counted (``statistics``).
///
/// The bridge reads the client's `NATSClient.events`: nothing else may read them.
public final class StationBridge: Sendable {
    /// Timings and limits of a bridge.
    public struct Configuration: Sendable {
        /// Each drone's telemetry is published at most once per this interval (default 1 s).
        public var telemetryInterval: Duration
        /// How long a request waits for the drone's reply (`nil`: the station's connection configuration).
        public var requestTimeout: Duration?
        /// The most NATS requests and timed starts served at once; more wait (default 4,096).
        public var maximumConcurrentRequests: Int
        /// How long a timed start waits for one drone's acknowledgement before sending it again (default 250 ms).
        public var acknowledgementTimeout: Duration

        /// The configuration.
        /// - Parameters:
        ///   - telemetryInterval: each drone's telemetry is published at most once per this interval.
        ///   - requestTimeout: how long a request waits for the drone's reply (`nil`: the station's default).
        ///   - maximumConcurrentRequests: the most requests and timed starts served at once.
        ///   - acknowledgementTimeout: a timed start's wait for one acknowledgement before sending again.
        public init(
            telemetryInterval: Duration = .seconds(1), requestTimeout: Duration? = nil,
            maximumConcurrentRequests: Int = 4096, acknowledgementTimeout: Duration = .milliseconds(250)
        ) {
            self.telemetryInterval = telemetryInterval
            self.requestTimeout = requestTimeout
            self.maximumConcurrentRequests = max(1, maximumConcurrentRequests)
            self.acknowledgementTimeout = acknowledgementTimeout
        }
    }

    /// What a bridge has done so far.
    public struct Statistics: Sendable, Hashable {
        /// How many times the NATS connection dropped.
        public var disconnects = 0
        /// How many times it came back.
        public var reconnects = 0
        /// The longest time without a NATS connection, when there was a drop.
        public var longestGap: Duration = .zero
        /// Actions received (one per NATS message).
        public var actions = 0
        /// Requests answered.
        public var requests = 0
        /// Timed starts answered.
        public var starts = 0
        /// Telemetry records published.
        public var telemetryPublished = 0
        /// Telemetry records replaced by a newer one before being published.
        public var telemetryCoalesced = 0
        /// Drone events (`joined`, `left`) published, re-announcements included.
        public var droneEvents = 0
        /// Publishes that failed (the NATS client's buffer was full, or it closed).
        public var publishFailures = 0
    }

    /// The station bridged.
    public let station: GroundStation
    /// The NATS client it publishes and serves through.
    public let client: NATSClient
    /// The station's name: its token in every subject.
    public let name: String
    /// Timings and limits.
    public let configuration: Configuration
    let logger: Logger
    let state = NIOLockedValueBox(State())
    let onNATSEvent: (@Sendable (NATSEvent) -> Void)?
    /// ``run()`` has its subscriptions, and the server has them.
    let serving = Readiness()

    struct State {
        var statistics = Statistics()
        var telemetry = TelemetryCoalescer()
        var publishedClocks: [String: Double] = [:]
        var stop: AsyncStream<Void>.Continuation?
        var stopped = false
        var disconnectedAt: ContinuousClock.Instant?
    }

    /// A bridge for `station` under the name `name`.
    /// - Parameters:
    ///   - station: the station (running or not: the bridge only uses its public API).
    ///   - client: a NATS client, connected by the caller (it reconnects by itself).
    ///   - name: the station's name, one subject token (``FleetSubjects/token(_:)``).
    ///   - configuration: timings and limits.
    ///   - logger: where the bridge logs (debug; NATS drops at warning).
    ///   - onNATSEvent: called with each event of the client's connection, once ``statistics`` counts it (for a console to print them).
    /// - Throws: ``FleetError`` (`invalid_argument`) when `name` is not one token.
    public init(
        station: GroundStation, client: NATSClient, name: String, configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "clever.bridge"), onNATSEvent: (@Sendable (NATSEvent) -> Void)? = nil
    ) throws(FleetError) {
        guard FleetSubjects.token(name), name != FleetSubjects.allDrones, name != "discover" else {
            throw FleetError(code: "invalid_argument", message: "station name \"\(name)\" is not one NATS subject token")
        }
        self.station = station
        self.client = client
        self.name = name
        self.configuration = configuration
        self.logger = logger
        self.onNATSEvent = onNATSEvent
    }

    /// What the bridge has done so far.
    public var statistics: Statistics {
        state.withLockedValue { s in
            var statistics = s.statistics
            statistics.telemetryCoalesced = s.telemetry.coalesced
            return statistics
        }
    }

    /// Serves and publishes until ``shutdown()``, a graceful shutdown of its
    /// `ServiceGroup`, or the NATS client closing; one child task per subscription and stream.
    ///
    /// This is also the bridge's `Service` conformance.
    /// - Throws: a NATS error when the first subscriptions cannot be made (the client was closed).
    public func run() async throws {
        let (stop, continuation) = AsyncStream.makeStream(of: Void.self)
        let stoppedAlready = state.withLockedValue { s -> Bool in
            s.stop = continuation
            return s.stopped
        }
        if stoppedAlready { return }
        try await withGracefulShutdownHandler {
            try await serve(until: stop)
        } onGracefulShutdown: {
            self.shutdown()
        }
    }

    /// Stops ``run()``: its subscriptions end (the NATS client stays open: its owner closes it).
    public func shutdown() {
        let stop = state.withLockedValue { s -> AsyncStream<Void>.Continuation? in
            s.stopped = true
            return s.stop
        }
        stop?.finish()
    }

    /// Waits until the bridge's subscriptions are made and the server has them (``run()`` started serving).
    public func waitUntilServing() async {
        await serving.wait()
    }

    private func serve(until stop: AsyncStream<Void>) async throws {
        let prefix = "\(FleetSubjects.root).\(name)"
        let actions = try await client.subscribe(to: "\(prefix).*.action.*")
        let requests = try await client.subscribe(to: "\(prefix).*.request.*")
        let status = try await client.subscribe(to: "\(prefix).status")
        let time = try await client.subscribe(to: "\(prefix).time")
        let starts = try await client.subscribe(to: "\(prefix).start")
        let discover = try await client.subscribe(to: FleetSubjects.discover)
        let events = self.station.events()
        let telemetry = self.station.telemetryUpdates()
        try? await client.flush()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.serveActions(actions) }
            group.addTask { await self.serveConcurrently(requests) { message in await self.answerRequest(message) } }
            group.addTask { await self.serveConcurrently(starts) { message in await self.answerStart(message) } }
            group.addTask { await self.serveConcurrently(status) { message in await self.answerStatus(message) } }
            group.addTask { await self.serveConcurrently(discover) { message in await self.answerStatus(message) } }
            group.addTask { await self.serveConcurrently(time) { message in await self.answerTime(message) } }
            group.addTask { await self.publishDroneEvents(events) }
            group.addTask { await self.collectTelemetry(telemetry) }
            group.addTask { await self.publishPeriodically() }
            group.addTask {
                await self.followConnection()
                self.shutdown()  // the client closed: nothing more to serve
            }
            serving.signal()
            logger.debug("station bridge serving", metadata: ["station": "\(name)"])
            await announceConnectedDrones()
            for await _ in stop {}
            group.cancelAll()
        }
        serving.reset()
    }

    /// Publishes `value` as JSON to `subject`; a failure is counted and logged, never thrown.
    func publish(_ value: some Encodable, to subject: String) async {
        do {
            try await client.publish(BridgeJSON.encode(value), to: subject)
        } catch {
            state.withLockedValue { $0.statistics.publishFailures += 1 }
            logger.debug("publish failed", metadata: ["subject": "\(subject)", "error": "\(error)"])
        }
    }

    /// Publishes a JSON payload to `subject`; a failure is counted and logged, never thrown.
    func publish(payload: ByteBuffer, to subject: String) async {
        do {
            try await client.publish(payload, to: subject)
        } catch {
            state.withLockedValue { $0.statistics.publishFailures += 1 }
            logger.debug("publish failed", metadata: ["subject": "\(subject)", "error": "\(error)"])
        }
    }
}

extension StationBridge: Service {}
