import Testing

@testable import CleverMessaging

/// The numbered writes behind lazy send receipts, without a socket: waiters
/// named by strings, outcomes compared as text.
@Suite("WriteReceipts")
struct WriteReceiptsTests {
    typealias Receipts = WriteReceipts<String>

    /// The waiters released, as `name:ok` or `name:error-code`.
    static func names(_ released: [(String, Receipts.Outcome)]) -> [String] {
        released.map { waiter, outcome in
            switch outcome {
            case .success: "\(waiter):ok"
            case .failure(let error): "\(waiter):\(error.code.rawValue)"
            }
        }
    }

    static func describe(_ outcome: Receipts.Outcome?) -> String {
        switch outcome {
        case nil: "pending"
        case .success: "ok"
        case .failure(let error): error.code.rawValue
        }
    }

    @Test("frames queued before a flush share its number; writes complete in order and release their waiters in order")
    func inOrder() {
        var receipts = Receipts()
        let first = receipts.queued
        #expect(receipts.queued == first, "every frame queued before the flush carries the same number")
        #expect(receipts.wait(for: first, "a") == nil)
        #expect(receipts.wait(for: first, "b") == nil)
        #expect(receipts.take() == first)
        let second = receipts.queued
        #expect(second == first + 1)
        #expect(receipts.wait(for: second, "c") == nil)
        #expect(receipts.take() == second)
        #expect(receipts.lastTaken == second)
        #expect(Self.names(receipts.ended(first, failure: nil)) == ["a:ok", "b:ok"])
        #expect(receipts.hasWaiters)
        #expect(Self.names(receipts.ended(second, failure: nil)) == ["c:ok"])
        #expect(!receipts.hasWaiters)
    }

    @Test("a receipt awaited after its write ended completes at once, and keeps no waiter")
    func alreadyWritten() {
        var receipts = Receipts()
        let number = receipts.take()
        #expect(receipts.ended(number, failure: nil).isEmpty, "nobody waited: nothing to resume")
        #expect(Self.describe(receipts.wait(for: number, "late")) == "ok")
        #expect(!receipts.hasWaiters)
        #expect(Self.describe(receipts.outcome(of: receipts.queued)) == "pending", "the next write has not ended")
    }

    @Test("the writes in flight when the link is lost fail, and keep failing for later waiters; later writes succeed")
    func linkLoss() {
        var receipts = Receipts()
        let written = receipts.take()
        let lost1 = receipts.take()
        let lost2 = receipts.take()
        #expect(receipts.wait(for: lost2, "waiting") == nil)
        _ = receipts.ended(written, failure: nil)
        _ = receipts.ended(lost1, failure: .connectionLost)
        #expect(Self.names(receipts.ended(lost2, failure: .connectionLost)) == ["waiting:connection_lost"])
        receipts.linkDown()
        #expect(receipts.lastTaken == nil)
        let next = receipts.take()
        _ = receipts.ended(next, failure: nil)
        #expect(Self.describe(receipts.outcome(of: written)) == "ok")
        #expect(Self.describe(receipts.outcome(of: lost1)) == "connection_lost")
        #expect(Self.describe(receipts.outcome(of: lost2)) == "connection_lost")
        #expect(Self.describe(receipts.outcome(of: next)) == "ok")
    }

    @Test("a dropped queue fails its receipts, even while earlier writes are still in flight")
    func droppedQueue() {
        var receipts = Receipts()
        let inFlight = receipts.take()
        let queued = receipts.queued
        #expect(receipts.wait(for: queued, "queued") == nil)
        #expect(receipts.wait(for: inFlight, "inFlight") == nil)
        #expect(Self.names(receipts.dropQueued(.closed)) == ["queued:closed"], "released before the earlier write ended")
        #expect(receipts.queued == queued + 1, "frames queued afterwards go with a new number")
        #expect(Self.names(receipts.ended(inFlight, failure: .connectionLost)) == ["inFlight:connection_lost"])
        #expect(receipts.endedBelow == queued + 1, "the write that ended ahead is folded in")
        #expect(Self.describe(receipts.outcome(of: queued)) == "closed")
    }

    @Test("a queue kept across a reconnect keeps its number: its receipts complete with the next link's write")
    func keptAcrossReconnect() {
        var receipts = Receipts()
        let queued = receipts.queued
        #expect(receipts.wait(for: queued, "kept") == nil)
        receipts.linkDown()
        #expect(!receipts.hasWaiters == false)
        #expect(receipts.take() == queued)
        #expect(Self.names(receipts.ended(queued, failure: nil)) == ["kept:ok"])
    }

    @Test("many receipts of one write, and a connection that goes away, fail every write that has not ended")
    func abandoned() {
        var receipts = Receipts()
        let written = receipts.take()
        let number = receipts.queued
        for n in 0..<100 { #expect(receipts.wait(for: number, "w\(n)") == nil) }
        _ = receipts.ended(written, failure: nil)
        let released = Self.names(receipts.abandon(.closed))
        #expect(released == (0..<100).map { "w\($0):closed" })
        #expect(Self.describe(receipts.wait(for: number, "late")) == "closed")
        #expect(Self.describe(receipts.outcome(of: written)) == "ok", "what was written stays written")
    }

    @Test("failures of one link merge into one range; different errors stay apart")
    func failureRanges() {
        var receipts = Receipts()
        var numbers: [UInt64] = []
        for _ in 0..<5 { numbers.append(receipts.take()) }
        for number in numbers.prefix(3) { _ = receipts.ended(number, failure: .connectionLost) }
        _ = receipts.ended(numbers[3], failure: .closed)
        _ = receipts.ended(numbers[4], failure: nil)
        #expect(numbers.map { Self.describe(receipts.outcome(of: $0)) } == ["connection_lost", "connection_lost", "connection_lost", "closed", "ok"])
    }
}
