import NIOCore
import Testing

@testable import CleverMessaging

/// The token bucket behind the inbound frame limit, on explicit instants.
@Suite("Token bucket")
struct TokenBucketTests {
    let start = NIODeadline.uptimeNanoseconds(5_000_000_000)

    @Test("a full bucket allows its burst at once, then refuses")
    func burst() {
        var bucket = TokenBucket(capacity: 3, rate: 1, now: start)
        let taken = (0..<4).map { _ in bucket.take(now: start) }
        #expect(taken == [true, true, true, false])
    }

    @Test("it refills at its rate, never beyond its capacity")
    func refill() {
        var bucket = TokenBucket(capacity: 10, rate: 100, now: start)
        let all = bucket.take(10, now: start)
        #expect(all)
        let available = [9, 10, 55, 3_600_000].map { bucket.available(now: start + .milliseconds(Int64($0))) }
        #expect(available == [0, 1, 5, 10])
        let again = bucket.take(10, now: start + .seconds(3600))
        let oneMore = bucket.take(now: start + .seconds(3600))
        #expect(again && !oneMore)
    }

    @Test("a sustained rate at the limit passes; above it is refused within a second")
    func sustained() {
        var bucket = TokenBucket(FrameRateLimit(framesPerSecond: 1000), now: start)
        // 1000 frames a second for 5 s, one every millisecond: never refused.
        var refusedAtLimit = 0
        for ms in 0..<5000 where !bucket.take(now: start + .milliseconds(Int64(ms))) { refusedAtLimit += 1 }
        #expect(refusedAtLimit == 0)
        // 3000 a second (three per millisecond): the burst runs out.
        var refusedAt: Int?
        for ms in 5000..<7000 where refusedAt == nil {
            for _ in 0..<3 where refusedAt == nil {
                if !bucket.take(now: start + .milliseconds(Int64(ms))) { refusedAt = ms }
            }
        }
        #expect((refusedAt ?? .max) < 6000, "refused at \(String(describing: refusedAt))")
    }

    @Test("an instant before the last one takes nothing back")
    func monotonic() {
        var bucket = TokenBucket(capacity: 2, rate: 1, now: start)
        let both = bucket.take(2, now: start)
        let earlier = bucket.take(now: start - .seconds(10))
        let later = bucket.take(now: start + .seconds(1))
        #expect(both && !earlier && later)
    }
}
