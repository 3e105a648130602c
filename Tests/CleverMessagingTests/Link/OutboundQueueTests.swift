import NIOCore
import Testing

@testable import CleverMessaging

/// The outbound queue's decisions, with explicit instants: no socket, no loop.
@Suite("OutboundQueue")
struct OutboundQueueTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func queue(limit: Int = 1000, replies: Int = 100) -> OutboundQueue {
        OutboundQueue(maximumQueuedBytes: limit, maximumReplyBacklog: replies, burstWindow: .microseconds(20))
    }

    func bytes(_ count: Int) -> ByteBuffer {
        ByteBuffer(repeating: 0x61, count: count)
    }

    @Test("held until a link opens: frames queue, nothing is taken, no flush is asked")
    func heldUntilOpen() {
        var q = queue()
        q.bytes.writeImmutableBuffer(bytes(10))
        #expect(q.isHeld)
        var flush = q.needsFlush()
        #expect(!flush)
        let none = q.takeForWrite(now: start)
        #expect(none == nil)
        let opened = q.open()
        #expect(opened, "what waited needs a flush")
        flush = q.needsFlush()
        #expect(!flush, "one flush is on its way already")
        let taken = q.takeForWrite(now: start)
        #expect(taken?.bytes.readableBytes == 10)
        #expect(q.inFlightBytes == 10)
        flush = q.needsFlush()
        #expect(flush)
    }

    @Test("the queue is full past its limit, counting bytes in flight")
    func full() throws {
        var q = queue(limit: 100)
        _ = q.open()
        q.bytes.writeImmutableBuffer(bytes(60))
        _ = q.takeForWrite(now: start)
        q.bytes.writeImmutableBuffer(bytes(41))
        #expect(throws: MessagingError.queueFull(queuedBytes: 101, limit: 100)) { try q.checkRoom() }
        _ = q.writeCompleted(bytes: 60, replies: 0, sameLink: true)
        try q.checkRoom()
    }

    @Test("a burst waits for the rest of the window; an awaited send does not")
    func burstWindow() {
        var q = queue()
        _ = q.open()
        q.bytes.writeImmutableBuffer(bytes(1))
        _ = q.takeForWrite(now: start)
        #expect(q.flushDelay(now: start + .microseconds(5)) == .microseconds(15))
        #expect(q.flushDelay(now: start + .microseconds(25)) == nil)
        q.flushAwaited = true
        #expect(q.flushDelay(now: start + .microseconds(5)) == nil)
    }

    @Test("replies past the backlog stop reading once; half written starts it again")
    func replyBacklog() {
        var q = queue(replies: 100)
        _ = q.open()
        q.bytes.writeImmutableBuffer(bytes(120))
        q.repliesQueued(120)
        let paused = q.pauseForReplies()
        let again = q.pauseForReplies()
        #expect(paused)
        #expect(!again, "paused already")
        #expect(q.replyPauses == 1)
        let taken = q.takeForWrite(now: start)!
        #expect(taken.replies == 120)
        let other = q.writeCompleted(bytes: 120, replies: 0, sameLink: false)
        #expect(!other, "another link's write changes nothing")
        let resumed = q.writeCompleted(bytes: 0, replies: 120, sameLink: true)
        #expect(resumed)
        #expect(!q.pausedForReplies)
    }

    @Test("a stream takes the link: what was queued goes first, what comes meanwhile waits for its end")
    func stream() {
        var q = queue()
        _ = q.open()
        q.bytes.writeImmutableBuffer(bytes(5))
        q.repliesQueued(5)
        let first = q.beginStream()
        #expect(first?.readableBytes == 5)
        #expect(q.replyBytesQueued == 0)
        let second = q.beginStream()
        #expect(second == nil, "one stream at a time")
        q.bytes.writeImmutableBuffer(bytes(7))
        let during = q.takeForWrite(now: start)
        #expect(during == nil)
        let flush = q.endStream()
        #expect(flush)
        let after = q.takeForWrite(now: start)
        #expect(after?.bytes.readableBytes == 7)
    }

    @Test("a lost link drops the queue unless it is kept for the next one")
    func linkLost() {
        var q = queue()
        _ = q.open()
        q.bytes.writeImmutableBuffer(bytes(3))
        let droppedWhenKept = q.hold(keep: true)
        #expect(!droppedWhenKept)
        #expect(q.bytes.readableBytes == 3)
        let dropped = q.hold(keep: false)
        #expect(dropped)
        #expect(q.bytes.readableBytes == 0)
        #expect(q.isHeld)
    }

    @Test("written storage is kept for the next frames on a busy link, and let go on one that writes now and then")
    func recycling() {
        var q = queue()
        _ = q.open()
        func flush(at now: NIODeadline) -> ByteBuffer {
            q.bytes.writeImmutableBuffer(bytes(10))
            var taken = q.takeForWrite(now: now)!.bytes
            taken.clear()
            return taken
        }
        // Two flushes seconds apart (an idle drone answering a ping): the storage goes.
        _ = flush(at: start)
        var written = flush(at: start + .seconds(2))
        #expect(!q.recyclesStorage, "told with the flush: the recycling (and its lock) is skipped")
        q.recycle(&written)
        #expect(q.bytes.capacity == 0)
        // Two flushes a millisecond apart (a busy link): the storage is kept.
        written = flush(at: start + .seconds(2) + .milliseconds(1))
        #expect(q.recyclesStorage)
        let capacity = written.capacity
        q.recycle(&written)
        #expect(q.bytes.capacity == capacity && capacity > 0)
    }
}
