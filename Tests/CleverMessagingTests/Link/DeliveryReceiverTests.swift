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
        #expect(receiver.received(sequence: 1, now: start).verdict == .run)
        #expect(receiver.received(sequence: 2, now: start).verdict == .run)
        #expect(receiver.received(sequence: 2, now: start).verdict == .duplicate)
        #expect(receiver.received(sequence: 1, now: start).verdict == .duplicate)
        #expect(receiver.highWater == 2)
        // A gap is accepted: the numbers before it are not coming.
        #expect(receiver.received(sequence: 7, now: start).verdict == .run)
        #expect(receiver.received(sequence: 5, now: start).verdict == .duplicate)
    }

    @Test("a reattached session keeps its high-water mark")
    func reattached() {
        var receiver = DeliveryReceiver(ackInterval: .milliseconds(50), highWater: 40)
        #expect(receiver.received(sequence: 39, now: start).verdict == .duplicate)
        #expect(receiver.received(sequence: 41, now: start).verdict == .run)
    }

    @Test("the first action owed arms the timer once per interval")
    func timer() {
        var receiver = DeliveryReceiver(ackInterval: .milliseconds(50))
        #expect(receiver.received(sequence: 1, now: start).armTimer == start + .milliseconds(50))
        #expect(receiver.received(sequence: 2, now: start + .milliseconds(10)).armTimer == nil)
        #expect(receiver.timerFired() == 2)
        #expect(receiver.timerFired() == nil, "nothing owed: no frame")
        #expect(receiver.received(sequence: 3, now: start + .milliseconds(60)).armTimer == start + .milliseconds(110))
    }

    @Test("an acknowledgement rides on an outbound action instead of a frame of its own")
    func piggyback() {
        var receiver = DeliveryReceiver(ackInterval: .milliseconds(50))
        #expect(receiver.takePiggyback() == nil)
        _ = receiver.received(sequence: 1, now: start)
        _ = receiver.received(sequence: 2, now: start)
        #expect(receiver.takePiggyback() == 2)
        #expect(receiver.takePiggyback() == nil)
        #expect(receiver.timerFired() == nil, "the piggyback settled it")
    }

    @Test("a duplicate is acknowledged again: the sender missed the acknowledgement")
    func duplicateOwesAck() {
        var receiver = DeliveryReceiver(ackInterval: .milliseconds(50))
        _ = receiver.received(sequence: 1, now: start)
        #expect(receiver.timerFired() == 1)
        _ = receiver.received(sequence: 1, now: start + .seconds(1))
        #expect(receiver.timerFired() == 1)
    }

    @Test("a link that goes down takes the timer and the owed acknowledgement with it")
    func linkDown() {
        var receiver = DeliveryReceiver(ackInterval: .milliseconds(50))
        _ = receiver.received(sequence: 1, now: start)
        receiver.linkDown()
        #expect(receiver.ackDue == nil)
        #expect(receiver.takePiggyback() == nil)
        #expect(receiver.highWater == 1)
    }
}
