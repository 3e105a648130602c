/// One measurement of one drone's clock: up to ``wanted`` samples taken one
/// after the other, keeping the one with the smallest round trip (the one
/// whose offset is bounded most tightly). Time is only ever an input: the
/// caller takes the samples and hands them in.
package struct ClockSampler: Sendable, Hashable {
    /// What to do next.
    package enum Next: Sendable, Hashable {
        /// Take another sample.
        case sample
        /// The measurement is over: this is the best sample.
        case done(ClockSample)
        /// Too many samples failed before one succeeded.
        case failed
    }

    /// How many samples make a measurement.
    package let wanted: Int
    /// How many failed samples end a measurement.
    package let maximumFailures: Int
    /// The sample with the smallest round trip so far.
    package private(set) var best: ClockSample?
    /// How many samples were recorded.
    package private(set) var taken = 0
    /// How many samples failed (no answer, an answer that does not parse).
    package private(set) var failures = 0

    /// A measurement.
    /// - Parameters:
    ///   - wanted: how many samples (at least 1).
    ///   - maximumFailures: how many failed samples end it (at least 1).
    package init(wanted: Int = 5, maximumFailures: Int = 2) {
        self.wanted = max(1, wanted)
        self.maximumFailures = max(1, maximumFailures)
    }

    /// What to do now.
    package var next: Next {
        if taken >= wanted, let best { return .done(best) }
        if failures >= maximumFailures { return best.map { .done($0) } ?? .failed }
        return .sample
    }

    /// A sample came back.
    /// - Parameter sample: its four readings.
    /// - Returns: what to do next.
    @discardableResult
    package mutating func record(_ sample: ClockSample) -> Next {
        // A reading taken across a step of the station's clock can run backwards: it proves nothing.
        guard sample.received >= sample.sent, sample.droneSent >= sample.droneReceived else { return failed() }
        taken += 1
        if best.map({ sample.roundTrip < $0.roundTrip }) ?? true { best = sample }
        return next
    }

    /// A sample failed.
    /// - Returns: what to do next.
    @discardableResult
    package mutating func failed() -> Next {
        failures += 1
        return next
    }
}
