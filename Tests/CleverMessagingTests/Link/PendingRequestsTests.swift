import NIOCore
import NIOConcurrencyHelpers
import Testing

@testable import CleverMessaging

@Suite("Pending-request state machine")
struct PendingRequestsTests {

    func entry(_ value: String, written: Bool = true, log: NIOLockedValueBox<[String]>? = nil) -> PendingRequests.Entry {
        PendingRequests.Entry(
            requestedValue: value,
            args: [1],
            kwargs: ["k": "v"],
            completion: .callback { result in log?.withLockedValue { $0.append("\(value):\(result)") } },
            timeout: nil,
            written: written
        )
    }

    @Test("request ids: zero-padded to 4 digits, longer when the counter grows")
    func ids() {
        #expect(Connection.formatRequestID(1) == "0001")
        #expect(Connection.formatRequestID(42) == "0042")
        #expect(Connection.formatRequestID(9999) == "9999")
        #expect(Connection.formatRequestID(10000) == "10000")
    }

    @Test("request numbers: exactly the ids formatRequestID makes, nothing else")
    func numbers() {
        for n in [0, 1, 42, 999, 9999, 10000, 123_456, Int.max] {
            #expect(Connection.requestNumber(Connection.formatRequestID(n)) == n)
        }
        for id in ["", "1", "001", "00001", "01000", "+001", "-001", "0x01", "00a1", " 0001", "0001 ", "１２３４",
                   "9223372036854775808", "99999999999999999999", "0001\u{0}"] {
            #expect(Connection.requestNumber(id) == nil, "\(id)")
        }
    }

    @Test("a reply with an id that only reads as the same number is not matched")
    func numericLookalikes() {
        var table = PendingRequests()
        table.add(id: "0001", entry: entry("time"))
        table.add(id: "12345", entry: entry("time"))
        for id in ["1", "00001", "001", "012345", "+0001"] {
            guard case .unexpected = table.receiveResponse(id: .string(id), requestedValue: "time") else {
                Issue.record("matched \(id)")
                return
            }
        }
        #expect(table.remove(id: "01") == nil)
        #expect(table.count == 2)
        guard case .deliver = table.receiveResponse(id: "12345", requestedValue: "time") else { Issue.record("no match"); return }
        #expect(table.remove(id: "0001") != nil)
        #expect(table.count == 0)
    }

    @Test("a response is matched by id and requested value")
    func matching() {
        var table = PendingRequests()
        table.add(id: "0001", entry: entry("time"))
        table.add(id: "0002", entry: entry("id"))
        guard case .unexpected = table.receiveResponse(id: "0001", requestedValue: "id") else { Issue.record("matched wrong value"); return }
        guard case .unexpected = table.receiveResponse(id: "0009", requestedValue: "time") else { Issue.record("matched unknown id"); return }
        guard case .unexpected = table.receiveResponse(id: 1, requestedValue: "time") else { Issue.record("matched number id"); return }
        guard case .unexpected = table.receiveResponse(id: nil, requestedValue: "time") else { Issue.record("matched no id"); return }
        #expect(table.count == 2)
        guard case .deliver(let e) = table.receiveResponse(id: "0001", requestedValue: "time") else { Issue.record("no match"); return }
        #expect(e.requestedValue == "time")
        #expect(table.count == 1)
        // A second reply to the same id is unexpected: it was consumed.
        guard case .unexpected = table.receiveResponse(id: "0001", requestedValue: "time") else { Issue.record("matched twice"); return }
    }

    @Test("deadlines: answered requests leave the queue as new ones come, and the live ones still expire")
    func deadlineQueueStaysSmall() {
        let start = NIODeadline.now()
        func add(_ number: Int, after seconds: Int64, to table: inout PendingRequests) {
            var e = entry("time")
            e.deadline = start + .seconds(seconds)
            table.add(number: number, entry: e)
        }
        func answer(_ number: Int, in table: inout PendingRequests) -> Bool {
            if case .deliver = table.receiveResponse(id: .string(Connection.formatRequestID(number)), requestedValue: "time") { return true }
            return false
        }
        // Answered in the order asked, four in flight: the queue stays near that.
        var inOrder = PendingRequests()
        var answered = 0
        for number in 1...10_000 {
            add(number, after: 30, to: &inOrder)
            if number > 4, answer(number - 4, in: &inOrder) { answered += 1 }
        }
        #expect(answered == 9_996)
        #expect(inOrder.count == 4)
        #expect(inOrder.deadlineItemCount <= 8, "queued items: \(inOrder.deadlineItemCount)")

        // A long-waiting request on top: the answered ones behind it are compacted away.
        var blocked = PendingRequests()
        add(1, after: 5, to: &blocked)
        for number in 2...20_000 {
            add(number, after: 30, to: &blocked)
            #expect(answer(number, in: &blocked))
        }
        #expect(blocked.count == 1)
        #expect(blocked.deadlineItemCount <= 2 * blocked.count + 1025)
        // Only the live request expires.
        #expect(blocked.expired(now: start + .seconds(60)).map(\.id) == ["0001"])
        #expect(blocked.count == 0)
    }

    @Test("link up: unsent requests go, sent ones are resent once with their arguments")
    func resendOnce() {
        var table = PendingRequests()
        table.add(id: "0001", entry: entry("a"))
        table.add(id: "0002", entry: entry("b", written: false))
        let first = table.linkUp(resend: true)
        #expect(first.map(\.id) == ["0001", "0002"])
        #expect(first[0].entry.args == [1])
        #expect(first[0].entry.kwargs == ["k": "v"])
        // Second link: "a" was already resent; "b" was written on the first link and goes once more.
        #expect(table.linkDown(keepForResend: true).count == 1)  // "a" resent already: fails now
        let second = table.linkUp(resend: true)
        #expect(second.map(\.id) == ["0002"])
        #expect(table.linkUp(resend: true).isEmpty)
    }

    @Test("link up without resend: only never-written requests go")
    func noResend() {
        var table = PendingRequests()
        table.add(id: "0001", entry: entry("a"))
        table.add(id: "0002", entry: entry("b", written: false))
        #expect(table.linkUp(resend: false).map(\.id) == ["0002"])
    }

    @Test("link down without resend fails everything; removeAll empties")
    func linkDown() {
        var table = PendingRequests()
        table.add(id: "0001", entry: entry("a"))
        table.add(id: "0002", entry: entry("b"))
        #expect(table.linkDown(keepForResend: false).count == 2)
        #expect(table.count == 0)
        table.add(id: "0003", entry: entry("c"))
        #expect(table.removeAll().count == 1)
        #expect(table.count == 0)
    }

    @Test("finishing an entry delivers exactly its result")
    func finish() {
        let log = NIOLockedValueBox<[String]>([])
        let e = entry("time", log: log)
        e.finish(.failure(.cancelled))
        #expect(log.withLockedValue { $0 } == ["time:failure(cancelled)"])
    }
}
