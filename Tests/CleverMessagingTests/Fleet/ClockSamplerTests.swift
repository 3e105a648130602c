import CleverMessaging
import Testing

/// ``ClockSample`` arithmetic and ``ClockSampler``: offsets and round trips from synthetic timestamps, no socket.
@Suite("Clock samples and the sampler")
struct ClockSamplerTests {
    /// A sample of a drone whose clock is `offset` ahead, with `out` and `back` one-way delays and `hold` spent on the drone.
    static func sample(at t1: Double, offset: Double, out: Double, back: Double, hold: Double = 0) -> ClockSample {
        let t2 = t1 + out + offset
        let t3 = t2 + hold
        return ClockSample(sent: t1, droneReceived: t2, droneSent: t3, received: t3 - offset + back)
    }

    @Test("symmetric delays give the exact offset; the drone's hold time is not in the round trip")
    func symmetric() {
        let s = Self.sample(at: 1_700_000_000, offset: 0.25, out: 0.002, back: 0.002, hold: 0.010)
        #expect(abs(s.offset - 0.25) < 1e-6)
        #expect(abs(s.roundTrip - 0.004) < 1e-6)
        let behind = Self.sample(at: 1_700_000_000, offset: -1.2, out: 0.0005, back: 0.0005)
        #expect(abs(behind.offset + 1.2) < 1e-6)
    }

    @Test("asymmetric delays err by at most half the round trip")
    func asymmetric() {
        let s = Self.sample(at: 1_700_000_000, offset: 0.1, out: 0.009, back: 0.001)
        #expect(abs(s.offset - 0.1) <= s.roundTrip / 2 + 1e-9)
        #expect(abs(s.offset - 0.1) > 0.003)
    }

    @Test("a reference drone's time answer: one reading, half the round trip as uncertainty")
    func timeAnswer() {
        let s = ClockSample(sent: 100, droneTime: 150.5, received: 101)
        #expect(s.offset == 50)
        #expect(s.roundTrip == 1)
        let offset = ClockOffset(offset: .seconds(s.offset), uncertainty: .seconds(s.roundTrip / 2), roundTrip: .seconds(s.roundTrip), measuredAt: 101, method: .timeRequest)
        #expect(offset.uncertainty == .milliseconds(500))
    }

    @Test("the sampler keeps the sample with the smallest round trip, after the number wanted")
    func keepsBest() {
        var sampler = ClockSampler(wanted: 3)
        #expect(sampler.next == .sample)
        let slow = Self.sample(at: 0, offset: 0.3, out: 0.010, back: 0.001)
        let fast = Self.sample(at: 1, offset: 0.25, out: 0.0001, back: 0.0001)
        let middle = Self.sample(at: 2, offset: 0.26, out: 0.002, back: 0.002)
        #expect(sampler.record(slow) == .sample)
        #expect(sampler.record(fast) == .sample)
        #expect(sampler.record(middle) == .done(fast))
        #expect(sampler.taken == 3)
    }

    @Test("failures: the best so far when one sample came, failed when none did")
    func failures() {
        var none = ClockSampler(wanted: 5, maximumFailures: 2)
        #expect(none.failed() == .sample)
        #expect(none.failed() == .failed)
        var one = ClockSampler(wanted: 5, maximumFailures: 2)
        let s = Self.sample(at: 0, offset: 0, out: 0.001, back: 0.001)
        one.record(s)
        one.failed()
        #expect(one.failed() == .done(s))
    }

    @Test("a sample whose readings run backwards counts as failed")
    func backwards() {
        var sampler = ClockSampler(wanted: 2, maximumFailures: 1)
        #expect(sampler.record(ClockSample(sent: 10, droneReceived: 5, droneSent: 5, received: 9)) == .failed)
    }

    @Test("ClockOffset encodes as milliseconds and decodes back")
    func codable() throws {
        let offset = ClockOffset(offset: .milliseconds(-1200), uncertainty: .microseconds(40), roundTrip: .microseconds(80), measuredAt: 1_700_000_000.25, method: .exchange)
        let json = try JSONValueEncoder().encode(offset)
        #expect(json.objectValue?["offset_ms"]?.doubleValue == -1200)
        #expect(json.objectValue?["rtt_ms"]?.doubleValue == 0.08)
        #expect(json.objectValue?["method"]?.stringValue == "exchange")
        let back = try JSONValueDecoder().decode(ClockOffset.self, from: json)
        #expect(abs((back.offset - offset.offset).inMilliseconds) < 1e-9)
        #expect(back.method == .exchange)
    }
}
