import CoreMetrics
import NIOConcurrencyHelpers

/// Where the library's metrics go: a swift-metrics `MetricsFactory`, and the
/// handles made with it.
///
/// The roles publish to the process's `MetricsSystem` when a backend was
/// bootstrapped (``bootstrapped()``), and to nothing otherwise, which then
/// costs a branch per read batch and per flush. To publish elsewhere (a test's
/// factory, a registry of one's own), set ``ConnectionConfiguration/metrics``:
///
/// ```swift
/// var configuration = ConnectionConfiguration()
/// configuration.metrics = CleverMetrics(factory: myFactory)
/// let server = MessagingServer(registry: registry, configuration: configuration)
/// ```
///
/// The metrics, named after Prometheus' conventions (see ``Name``); all but
/// the refusals and clock offsets have a `role` label, `server` or `client`:
///
/// | name | kind | labels |
/// | --- | --- | --- |
/// | `clever_links_open` | gauge | role |
/// | `clever_links_opened_total` | counter | role |
/// | `clever_frames_sent_total`, `clever_frames_received_total` | counter | role |
/// | `clever_bytes_sent_total`, `clever_bytes_received_total` | counter | role |
/// | `clever_requests_total` | counter | role |
/// | `clever_request_duration_seconds` | histogram | role |
/// | `clever_request_timeouts_total` | counter | role |
/// | `clever_file_bytes_total` | counter | role, direction (`sent`, `received`) |
/// | `clever_links_refused_total` | counter | reason (``LinkRefusal/Reason``) |
/// | `clever_clock_offset_seconds`, `clever_clock_uncertainty_seconds` | gauge | drone |
///
/// Frames and bytes are counted per connection in plain integers and published
/// in batches (when a read batch ends, when a flush is written), never one
/// metric update per frame.
public final class CleverMetrics: Sendable, Hashable {
    /// Which side of a link a metric counts for (its `role` label).
    public enum Role: String, Sendable, Hashable, CaseIterable {
        /// The links a ``MessagingServer`` (or ``GroundStation``) accepted.
        case server
        /// The links of ``MessagingClient``s (and connections made without a role).
        case client
    }

    /// The names of the metrics (Prometheus conventions: `clever_` prefix,
    /// `_total` for counters, base units).
    public enum Name {
        /// Links open now (a gauge).
        public static let linksOpen = "clever_links_open"
        /// Links opened (handshake passed).
        public static let linksOpened = "clever_links_opened_total"
        /// Frames handed to links.
        public static let framesSent = "clever_frames_sent_total"
        /// Frames received.
        public static let framesReceived = "clever_frames_received_total"
        /// Bytes of frames handed to links.
        public static let bytesSent = "clever_bytes_sent_total"
        /// Bytes read from links.
        public static let bytesReceived = "clever_bytes_received_total"
        /// Requests sent.
        public static let requests = "clever_requests_total"
        /// From a request's start to its reply (a histogram, in seconds).
        public static let requestDuration = "clever_request_duration_seconds"
        /// Requests that timed out.
        public static let requestTimeouts = "clever_request_timeouts_total"
        /// File body bytes, label `direction`.
        public static let fileBytes = "clever_file_bytes_total"
        /// Links a server refused, label `reason`.
        public static let linksRefused = "clever_links_refused_total"
        /// A drone's clock offset from the ground station's clock, label `drone`.
        public static let clockOffset = "clever_clock_offset_seconds"
        /// The uncertainty of a drone's clock offset, label `drone`.
        public static let clockUncertainty = "clever_clock_uncertainty_seconds"
    }

    /// The factory every metric is made with.
    public let factory: any MetricsFactory
    /// The handles of each role, made when a role first asks (a process that
    /// only serves reports no client series).
    private let roles = NIOLockedValueBox<[Role: LinkMetrics]>([:])
    /// Refusal counters by reason, made at a reason's first refusal.
    private let refusals = NIOLockedValueBox<[String: Counter]>([:])
    /// Clock offset gauges by drone.
    private let clocks = NIOLockedValueBox<[String: (offset: Gauge, uncertainty: Gauge)]>([:])

    /// Metrics made with `factory`.
    /// - Parameter factory: the backend (default: the process's, `MetricsSystem.factory`).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    /// Metrics over the process's `MetricsSystem.factory`, or `nil` when no
    /// backend was bootstrapped (the roles then publish nothing).
    /// - Returns: the metrics, if there is a backend.
    public static func bootstrapped() -> CleverMetrics? {
        let factory = MetricsSystem.factory
        if factory is NOOPMetricsHandler { return nil }
        return CleverMetrics(factory: factory)
    }

    /// The handles of `role` (made at its first call; a role asks once, when it is made).
    package func links(_ role: Role) -> LinkMetrics {
        roles.withLockedValue { roles in
            if let links = roles[role] { return links }
            let links = LinkMetrics(role: role, factory: factory)
            roles[role] = links
            return links
        }
    }

    /// A server refused a link (`clever_links_refused_total{reason=...}`).
    /// - Parameter reason: why (``LinkRefusal/Reason``'s code).
    package func linkRefused(reason: String) {
        let counter = refusals.withLockedValue { counters in
            if let counter = counters[reason] { return counter }
            let counter = Counter(label: Name.linksRefused, dimensions: [("reason", reason)], factory: factory)
            counters[reason] = counter
            return counter
        }
        counter.increment()
    }

    /// Records a drone's measured clock offset and its uncertainty, as the
    /// gauges `clever_clock_offset_seconds{drone=...}` and
    /// `clever_clock_uncertainty_seconds{drone=...}`.
    ///
    /// Called by whatever measures the clocks, after each measurement; the
    /// gauges keep the last value until ``forgetClockOffset(drone:)``.
    /// - Parameters:
    ///   - drone: the drone's id.
    ///   - offset: how far the drone's clock is ahead of this side's (negative: behind).
    ///   - uncertainty: how far off `offset` may be (half the round trip, at most).
    public func recordClockOffset(drone: String, offset: Duration, uncertainty: Duration) {
        let gauges = clocks.withLockedValue { gauges in
            if let pair = gauges[drone] { return pair }
            let dimensions = [("drone", drone)]
            let pair = (
                offset: Gauge(label: Name.clockOffset, dimensions: dimensions, factory: factory),
                uncertainty: Gauge(label: Name.clockUncertainty, dimensions: dimensions, factory: factory)
            )
            gauges[drone] = pair
            return pair
        }
        gauges.offset.record(Self.seconds(offset))
        gauges.uncertainty.record(Self.seconds(uncertainty))
    }

    /// Drops a drone's clock gauges (a drone that left the fleet), so that
    /// they are no longer reported.
    /// - Parameter drone: the drone's id.
    public func forgetClockOffset(drone: String) {
        guard let pair = clocks.withLockedValue({ $0.removeValue(forKey: drone) }) else { return }
        pair.offset.destroy()
        pair.uncertainty.destroy()
    }

    /// `duration` in seconds.
    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Whether `lhs` and `rhs` are the same object.
    public static func == (lhs: CleverMetrics, rhs: CleverMetrics) -> Bool {
        lhs === rhs
    }

    /// Hashes the object's identity.
    /// - Parameter hasher: the hasher.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(self))
    }
}
