/// How far one drone's clock is from the station's, as the station measured it.
///
/// ``offset`` is positive when the drone's clock is ahead: an instant `t` of the
/// station's clock reads `t + offset` on the drone's. The true offset lies within
/// ``uncertainty`` of it (half the round trip of the best sample).
///
/// It encodes as milliseconds: `{"offset_ms": 250.012, "uncertainty_ms": 0.04,
/// "rtt_ms": 0.08, "measured_at": 1700000000.25, "method": "exchange"}`.
public struct ClockOffset: Sendable, Hashable, Codable {
    /// How the drone's clock was read.
    public enum Method: String, Sendable, Hashable, Codable {
        /// The `x-clever-time` exchange with a peer of this library (four timestamps).
        case exchange
        /// The `time` request of a reference drone (one reading of its clock).
        case timeRequest = "time_request"
    }

    /// How far the drone's clock is ahead of the station's (negative: behind).
    public var offset: Duration
    /// The most the true offset can differ from ``offset``: half of ``roundTrip``.
    public var uncertainty: Duration
    /// The round trip of the sample kept (the smallest of its measurement).
    public var roundTrip: Duration
    /// When it was measured: the station's clock, as Unix seconds.
    public var measuredAt: Double
    /// How the drone's clock was read.
    public var method: Method

    /// An offset.
    /// - Parameters:
    ///   - offset: how far the drone's clock is ahead.
    ///   - uncertainty: the most the true offset can differ from `offset`.
    ///   - roundTrip: the round trip of the sample.
    ///   - measuredAt: when, as Unix seconds of the station's clock.
    ///   - method: how the drone's clock was read.
    public init(offset: Duration, uncertainty: Duration, roundTrip: Duration, measuredAt: Double, method: Method) {
        self.offset = offset
        self.uncertainty = uncertainty
        self.roundTrip = roundTrip
        self.measuredAt = measuredAt
        self.method = method
    }

    /// The offset of a sample.
    init(_ sample: ClockSample, method: Method) {
        self.init(
            offset: .seconds(sample.offset),
            uncertainty: .seconds(sample.roundTrip / 2),
            roundTrip: .seconds(sample.roundTrip),
            measuredAt: sample.received,
            method: method
        )
    }

    private enum CodingKeys: String, CodingKey {
        case offset = "offset_ms"
        case uncertainty = "uncertainty_ms"
        case roundTrip = "rtt_ms"
        case measuredAt = "measured_at"
        case method
    }

    /// Decodes the millisecond form.
    /// - Parameter decoder: the decoder.
    /// - Throws: when a member is missing or of the wrong type.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        offset = .milliseconds(try c.decode(Double.self, forKey: .offset))
        uncertainty = .milliseconds(try c.decode(Double.self, forKey: .uncertainty))
        roundTrip = .milliseconds(try c.decode(Double.self, forKey: .roundTrip))
        measuredAt = try c.decode(Double.self, forKey: .measuredAt)
        method = try c.decode(Method.self, forKey: .method)
    }

    /// Encodes the millisecond form.
    /// - Parameter encoder: the encoder.
    /// - Throws: what the encoder throws.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(offset.inMilliseconds, forKey: .offset)
        try c.encode(uncertainty.inMilliseconds, forKey: .uncertainty)
        try c.encode(roundTrip.inMilliseconds, forKey: .roundTrip)
        try c.encode(measuredAt, forKey: .measuredAt)
        try c.encode(method, forKey: .method)
    }
}
