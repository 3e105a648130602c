/// One NTP-style reading of a station's clock over NATS request-reply: the
/// console's wall clock when the request left and when the reply came, and
/// the station's wall clock in the reply (all Unix seconds).
public struct FleetClockSample: Sendable, Hashable {
    /// The console's clock when the request was sent.
    public var sent: Double
    /// The station's clock in its reply.
    public var stationTime: Double
    /// The console's clock when the reply arrived.
    public var received: Double

    /// Creates the sample.
    /// - Parameters:
    ///   - sent: the console's clock when the request was sent.
    ///   - stationTime: the station's clock in its reply.
    ///   - received: the console's clock when the reply arrived.
    public init(sent: Double, stationTime: Double, received: Double) {
        self.sent = sent
        self.stationTime = stationTime
        self.received = received
    }

    /// The round trip, in seconds (never negative).
    public var roundTrip: Double { max(0, received - sent) }

    /// Station clock minus console clock, in seconds, assuming the reply was
    /// read halfway through the round trip.
    public var offset: Double { stationTime - (sent + received) / 2 }
}

/// Keeps the best of several ``FleetClockSample``s (the smallest round trip,
/// whose midpoint assumption is the least wrong) and reports the offset with
/// its uncertainty (half that round trip). Pure: the samples are its input.
public struct FleetClockEstimator: Sendable, Hashable {
    /// The sample with the smallest round trip so far.
    public private(set) var best: FleetClockSample?
    /// How many samples were added.
    public private(set) var count = 0

    /// An estimator with no sample yet.
    public init() {}

    /// Adds a sample; samples with a non-finite time are ignored.
    /// - Parameter sample: the reading.
    public mutating func add(_ sample: FleetClockSample) {
        guard sample.sent.isFinite, sample.received.isFinite, sample.stationTime.isFinite else { return }
        count += 1
        if let best, best.roundTrip <= sample.roundTrip { return }
        best = sample
    }

    /// The offset of `station`'s clock from the best sample, or `nil` with no sample.
    /// - Parameter station: the station measured.
    /// - Returns: the estimate.
    public func estimate(station: String) -> FleetClockOffset? {
        guard let best else { return nil }
        return FleetClockOffset(
            station: station, offset: .seconds(best.offset), uncertainty: .seconds(best.roundTrip / 2),
            roundTrip: .seconds(best.roundTrip), samples: count)
    }
}

/// A station's clock measured from a fleet console.
public struct FleetClockOffset: Sendable, Hashable {
    /// The station.
    public var station: String
    /// Station clock minus console clock.
    public var offset: Duration
    /// How far the true offset may be from ``offset``: half the best round trip.
    public var uncertainty: Duration
    /// The best (smallest) round trip.
    public var roundTrip: Duration
    /// How many samples were taken.
    public var samples: Int

    /// Creates the measurement.
    /// - Parameters:
    ///   - station: the station.
    ///   - offset: station clock minus console clock.
    ///   - uncertainty: half the best round trip.
    ///   - roundTrip: the best round trip.
    ///   - samples: how many samples were taken.
    public init(station: String, offset: Duration, uncertainty: Duration, roundTrip: Duration, samples: Int) {
        self.station = station
        self.offset = offset
        self.uncertainty = uncertainty
        self.roundTrip = roundTrip
        self.samples = samples
    }

    /// `consoleTime` (Unix seconds on the console's clock) on the station's clock.
    /// - Parameter consoleTime: an instant on the console's clock.
    /// - Returns: the same instant on the station's clock.
    public func stationTime(forConsoleTime consoleTime: Double) -> Double {
        consoleTime + offset.fleetSeconds
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var fleetSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
