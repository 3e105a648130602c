/// What the station knows of one drone's clock: its latest offset, and
/// whether that is beyond the threshold, so that crossing it is said once
/// each way (``ClockEvent``).
package struct ClockEstimate: Sendable, Hashable {
    /// The latest offset.
    package private(set) var latest: ClockOffset?
    /// Whether the latest offset is beyond the threshold.
    package private(set) var isBeyondThreshold = false

    /// No offset yet.
    package init() {}

    /// A new measurement.
    /// - Parameters:
    ///   - offset: what was measured.
    ///   - droneID: the drone, for the event.
    ///   - threshold: the largest offset, either way, that is not reported.
    /// - Returns: the event when the offset crossed the threshold, else `nil`.
    package mutating func update(_ offset: ClockOffset, droneID: String, threshold: Duration) -> ClockEvent? {
        latest = offset
        let beyond = offset.offset > threshold || offset.offset < .zero - threshold
        defer { isBeyondThreshold = beyond }
        guard beyond != isBeyondThreshold else { return nil }
        return beyond ? .exceeded(droneID: droneID, offset) : .withinThreshold(droneID: droneID, offset)
    }
}
