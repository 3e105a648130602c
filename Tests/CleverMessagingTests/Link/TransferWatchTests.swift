import NIOCore
import Testing

@testable import CleverMessaging

/// The transfer watch, driven with explicit instants: no socket, no loop, no sleep.
@Suite("Transfer watch")
struct TransferWatchTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    func counters(acked: UInt64, received: UInt64 = 0, handed: UInt64? = nil) -> TransportCounters {
        TransportCounters(bytesAcknowledged: acked, bytesReceived: received, bytesHandedToTCP: handed ?? acked)
    }

    @Test("the stall deadline runs from the last progress, not from the start")
    func deadlineFromLastProgress() {
        var watch = TransferWatch(stallTimeout: .seconds(2), now: start)
        #expect(watch.check(now: start) == .moving(next: start + .milliseconds(250)))
        for second in 1...60 {
            watch.progressed(now: start + .seconds(Int64(second)))
        }
        #expect(watch.check(now: start + .milliseconds(61_500)) == .moving(next: start + .milliseconds(61_750)))
        #expect(watch.check(now: start + .seconds(62)) == .stalled(idle: .seconds(2)))
    }

    @Test("counters that move are progress; counters that stay are not")
    func countersMoving() {
        var watch = TransferWatch(stallTimeout: .seconds(2), now: start)
        watch.sampled(counters(acked: 100), now: start + .seconds(1))
        #expect(watch.lastProgress == start, "the first sample sets the base")
        watch.sampled(counters(acked: 200), now: start + .seconds(2))
        #expect(watch.lastProgress == start + .seconds(2))
        watch.sampled(counters(acked: 200, received: 5), now: start + .seconds(3))
        #expect(watch.lastProgress == start + .seconds(3))
        watch.sampled(counters(acked: 200, received: 5), now: start + .seconds(4))
        #expect(watch.check(now: start + .seconds(5)) == .stalled(idle: .seconds(2)))
    }

    @Test("drained once the peer's TCP acknowledged every byte handed to it when the last was written")
    func drains() {
        var watch = TransferWatch(stallTimeout: .seconds(2), now: start)
        watch.sampled(counters(acked: 1_000), now: start)
        watch.expectDrain(of: counters(acked: 1_000, handed: 4_000_000))
        #expect(watch.check(now: start + .milliseconds(100)) == .moving(next: start + .milliseconds(350)))
        watch.sampled(counters(acked: 3_999_999), now: start + .seconds(1))
        #expect(watch.check(now: start + .seconds(1)) != .drained)
        watch.sampled(counters(acked: 4_000_100), now: start + .milliseconds(1200))
        #expect(watch.check(now: start + .milliseconds(1200)) == .drained)
    }

    @Test("with no counters to read, the writes completing is all there is: drained at once")
    func drainsBlind() {
        var watch = TransferWatch(stallTimeout: .seconds(2), now: start)
        watch.expectDrain(of: nil)
        #expect(watch.check(now: start) == .drained)
    }

    @Test("a short stall timeout samples more often, within 20 ms to 250 ms")
    func sampleInterval() {
        #expect(TransferWatch(stallTimeout: .milliseconds(100), now: start).sampleInterval == .milliseconds(20))
        #expect(TransferWatch(stallTimeout: .milliseconds(800), now: start).sampleInterval == .milliseconds(100))
        #expect(TransferWatch(stallTimeout: .seconds(30), now: start).sampleInterval == .milliseconds(250))
    }
}
