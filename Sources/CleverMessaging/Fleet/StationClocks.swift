import NIOConcurrencyHelpers

/// A ground station's knowledge of its drones' clocks: the measuring schedule
/// (``ClockSchedule``), each drone's latest offset (``ClockEstimate``), and
/// the subscribers of ``ClockEvent``s, behind one lock; each offset measured
/// also goes to the station's metrics (`clever_clock_offset_seconds`).
final class StationClocks: Sendable {
    private struct State {
        var schedule: ClockSchedule
        var estimates: [String: ClockEstimate] = [:]
    }

    /// The settings.
    let configuration: ClockConfiguration
    private let state: NIOLockedValueBox<State>
    /// The streams of ``events()``.
    private let subscribers = EventSubscribers<ClockEvent>()
    /// Woken when a drone becomes due before the measuring loop's deadline (a link opened).
    let waiters = StateWaiters()
    /// Woken when an offset is recorded (``GroundStation/waitForClockOffset(of:timeout:)``).
    let recorded = StateWaiters()
    /// Where offsets are published, if anywhere.
    private let metrics: CleverMetrics?

    init(configuration: ClockConfiguration, metrics: CleverMetrics? = nil) {
        self.configuration = configuration
        self.metrics = metrics
        self.state = NIOLockedValueBox(State(schedule: ClockSchedule(interval: configuration.interval)))
    }

    /// A drone's link opened (after identify): it is measured at once (when the configuration says so).
    func linked(_ id: String) {
        guard configuration.measuresOnLink else { return }
        state.withLockedValue { $0.schedule.linked(id, now: .now) }
        waiters.changed()
    }

    /// A drone's link closed.
    func unlinked(_ id: String) {
        state.withLockedValue { $0.schedule.unlinked(id) }
    }

    /// Takes the drones due now (at most `limit`).
    func takeDue(limit: Int) -> [String] {
        state.withLockedValue { $0.schedule.take(now: .now, limit: limit) }
    }

    /// Whether a drone is due now.
    var isDue: Bool { state.withLockedValue { $0.schedule.isDue(now: .now) } }

    /// When the next drone is due, if any is scheduled.
    var nextDue: ContinuousClock.Instant? { state.withLockedValue { $0.schedule.nextDue } }

    /// A scheduled measurement ended.
    func finished(_ id: String, offset: ClockOffset?) {
        state.withLockedValue { s in
            s.schedule.finished(id, now: .now, succeeded: offset != nil)
            if let offset { Self.record(offset, of: id, threshold: configuration.threshold, in: &s, subscribers: subscribers) }
        }
        if let offset {
            recorded.changed()
            metrics?.recordClockOffset(drone: id, offset: offset.offset, uncertainty: offset.uncertainty)
        }
    }

    /// A measurement made on demand.
    func record(_ offset: ClockOffset, of id: String) {
        state.withLockedValue { Self.record(offset, of: id, threshold: configuration.threshold, in: &$0, subscribers: subscribers) }
        recorded.changed()
        metrics?.recordClockOffset(drone: id, offset: offset.offset, uncertainty: offset.uncertainty)
    }

    /// The latest offset of every drone measured.
    var offsets: [String: ClockOffset] {
        state.withLockedValue { s in s.estimates.compactMapValues(\.latest) }
    }

    /// The latest offset of one drone.
    func offset(of id: String) -> ClockOffset? {
        state.withLockedValue { $0.estimates[id]?.latest }
    }

    /// A stream of events from now on.
    func events() -> AsyncStream<ClockEvent> {
        subscribers.subscribe(buffering: 10_000)
    }

    /// Ends every event stream (the station stopped).
    func finish() {
        subscribers.finish()
    }

    /// Keeps an offset and says a crossing of the threshold. Called under the lock
    /// (yielding never waits), so that events come in the order of the measurements.
    private static func record(
        _ offset: ClockOffset, of id: String, threshold: Duration, in s: inout State, subscribers: EventSubscribers<ClockEvent>
    ) {
        guard let event = s.estimates[id, default: ClockEstimate()].update(offset, droneID: id, threshold: threshold) else { return }
        subscribers.publish(event)
    }
}
