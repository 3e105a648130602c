@testable import CleverMessaging
import NIOCore
import Testing

/// The receiver's dedup: its high-water mark, and what to acknowledge when.
@Suite("DeliveryReceiver")
struct DeliveryReceiverTests {
    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test("new actions run, those at or below the high-water mark are duplicates")
    func dedup() {
        var receiver = DeliveryReceiver(ackInterval: .milliseconds(50))
        #expect(receiver.received(sequence: 1) == .run)
        #expect(receiver.received(sequence: 2) == .run)
        #expect(receiver.received(sequence: 2) == .duplicate)
        #expect(receiver.received(sequence: 1) == .duplicate)
        #expect(receiver.highWater == 2)
        // A gap is accepted: the numbers before it are not coming.
        #expect(receiver.received(sequence: 7) == .run)
        #expect(receiver.received(sequence: 5) == .duplicate)
    }

    @Test("a reattached session keeps its high-water mark")
    func reattached() {
        var receiver = DeliveryReceiver(ackInterval: .milliseconds(50), highWater: 40)
        #expect(receiver.received(sequence: 39) == .duplicate)
        #expect(receiver.received(sequence: 41) == .run)
    }

    @Test("the first read that owes an acknowledgement arms the timer, once per interval")
    func timer() {
        var receiver = DeliveryReceiver(ackInterval: .milliseconds(50))
        #expect(receiver.readEnded(now: start, bytesRead: 100) == .none, "nothing owed: nothing to do")
        _ = receiver.received(sequence: 1)
        #expect(receiver.readEnded(now: start, bytesRead: 100) == .armTimer(start + .milliseconds(50)))
        _ = receiver.received(sequence: 2)
        #expect(receiver.readEnded(now: start + .milliseconds(10), bytesRead: 100) == .none, "the timer is armed")
        #expect(receiver.timerFired() == 2)
        #expect(receiver.timerFired() == nil, "nothing owed: no frame")
        _ = receiver.received(sequence: 3)
        #expect(receiver.readEnded(now: start + .milliseconds(60), bytesRead: 100) == .armTimer(start + .milliseconds(110)))
    }

    @Test("a read that brought ackEvery actions acknowledges at its end, not per action")
    func ackEveryActions() {
        var receiver = DeliveryReceiver(ackInterval: .milliseconds(50), ackEvery: 4, ackEveryBytes: 1 << 20)
        for sequence in 1...3 { #expect(receiver.received(sequence: UInt64(sequence)) == .run) }
        #expect(receiver.readEnded(now: start, bytesRead: 300) == .armTimer(start + .milliseconds(50)))
        for sequence in 4...9 { _ = receiver.received(sequence: UInt64(sequence)) }
        #expect(receiver.readEnded(now: start + .milliseconds(1), bytesRead: 600) == .acknowledge(9), "cumulative: the whole read at once")
        #expect(!receiver.ackOwed)
        #expect(receiver.takePiggyback() == nil)
        #expect(receiver.timerFired() == nil, "the armed timer finds nothing owed")
        // The count starts again after each acknowledgement, a piggybacked one too.
        for sequence in 10...12 { _ = receiver.received(sequence: UInt64(sequence)) }
        #expect(receiver.takePiggyback() == 12)
        _ = receiver.received(sequence: 13)
        #expect(receiver.readEnded(now: start + .milliseconds(2), bytesRead: 100) == .armTimer(start + .milliseconds(52)))
    }

    @Test("reads that brought ackEveryBytes bytes while an acknowledgement is owed acknowledge at their end")
    func ackEveryBytes() {
        var receiver = DeliveryReceiver(ackInterval: .milliseconds(50), ackEvery: 1000, ackEveryBytes: 10_000)
        #expect(receiver.readEnded(now: start, bytesRead: 50_000) == .none, "bytes with nothing owed do not count")
        _ = receiver.received(sequence: 1)
        #expect(receiver.readEnded(now: start, bytesRead: 6_000) == .armTimer(start + .milliseconds(50)))
        _ = receiver.received(sequence: 2)
        #expect(receiver.readEnded(now: start, bytesRead: 6_000) == .acknowledge(2))
        #expect(receiver.owedBytes == 0)
    }

    @Test("a duplicate counts toward the acknowledgement at the end of the read")
    func duplicateCountsAtReadEnd() {
        var receiver = DeliveryReceiver(ackInterval: .milliseconds(50), ackEvery: 2, highWater: 10)
        #expect(receiver.received(sequence: 9) == .duplicate)
        #expect(receiver.received(sequence: 10) == .duplicate)
        #expect(receiver.readEnded(now: start, bytesRead: 100) == .acknowledge(10), "the sender missed the acknowledgement: it gets it again")
    }

    @Test("thresholds below one act as one: every read that owes acknowledges")
    func thresholdsAtLeastOne() {
        var receiver = DeliveryReceiver(ackInterval: .milliseconds(50), ackEvery: 0, ackEveryBytes: 0)
        #expect(receiver.ackEvery == 1)
        #expect(receiver.readEnded(now: start, bytesRead: 0) == .none)
        _ = receiver.received(sequence: 1)
        #expect(receiver.readEnded(now: start, bytesRead: 0) == .acknowledge(1))
    }

    @Test("an acknowledgement rides on an outbound action instead of a frame of its own")
    func piggyback() {
        var receiver = DeliveryReceiver(ackInterval: .milliseconds(50))
        #expect(receiver.takePiggyback() == nil)
        _ = receiver.received(sequence: 1)
        _ = receiver.received(sequence: 2)
        #expect(receiver.takePiggyback() == 2)
        #expect(receiver.takePiggyback() == nil)
        #expect(receiver.timerFired() == nil, "the piggyback settled it")
    }

    @Test("a duplicate is acknowledged again: the sender missed the acknowledgement")
    func duplicateOwesAck() {
        var receiver = DeliveryReceiver(ackInterval: .milliseconds(50))
        _ = receiver.received(sequence: 1)
        #expect(receiver.timerFired() == 1)
        _ = receiver.received(sequence: 1)
        #expect(receiver.timerFired() == 1)
    }

    @Test("a link that goes down takes the timer and the owed acknowledgement with it")
    func linkDown() {
        var receiver = DeliveryReceiver(ackInterval: .milliseconds(50))
        _ = receiver.received(sequence: 1)
        _ = receiver.readEnded(now: start, bytesRead: 100)
        #expect(receiver.ackDue != nil)
        receiver.linkDown()
        #expect(receiver.ackDue == nil)
        #expect(receiver.owedCount == 0)
        #expect(receiver.takePiggyback() == nil)
        #expect(receiver.highWater == 1)
    }
}
