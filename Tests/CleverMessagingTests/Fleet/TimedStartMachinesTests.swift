import CleverMessaging
import Testing

/// The timed start's machines: the station's ``StartAttempts`` and the drone's ``TimedStartTable``, no socket.
@Suite("Timed start: attempts and the drone's table")
struct TimedStartMachinesTests {
    @Test("attempts: sent with a timeout cut to the give-up time, retried, waiting for a link, then given up")
    func attempts() {
        var attempts = StartAttempts(giveUpAt: 100, attemptTimeout: .milliseconds(250))
        #expect(attempts.next(now: 99, linked: true) == .send(timeout: .milliseconds(250)))
        #expect(attempts.retries == 0)
        #expect(attempts.next(now: 99.9, linked: true) == .send(timeout: .seconds(100 - 99.9)))
        #expect(attempts.retries == 1)
        #expect(attempts.next(now: 99.95, linked: false) == .waitForLink(upTo: .seconds(100 - 99.95)))
        #expect(attempts.attempts == 2)
        #expect(attempts.next(now: 99.9995, linked: true) == .giveUp)
        #expect(attempts.next(now: 101, linked: true) == .giveUp)
    }

    @Test("an instant however far, or not a number, never traps")
    func farInstants() {
        var far = StartAttempts(giveUpAt: 1e300, attemptTimeout: .milliseconds(250))
        #expect(far.next(now: 0, linked: false) == .waitForLink(upTo: .seconds(86_400)))
        #expect(far.next(now: 0, linked: true) == .send(timeout: .milliseconds(250)))
        var nan = StartAttempts(giveUpAt: .nan, attemptTimeout: .milliseconds(250))
        #expect(nan.next(now: 0, linked: true) == .giveUp)
    }

    @Test("the drone schedules a start once, however often it comes; a past instant runs at once")
    func table() {
        var table = TimedStartTable(rememberedRuns: 2)
        #expect(table.accept(id: "s1", at: 1000.5, now: 1000) == .schedule(in: .milliseconds(500)))
        #expect(table.accept(id: "s1", at: 1000.5, now: 1000.1) == .duplicate)
        #expect(table.run(id: "s1") == 1000.5)
        #expect(table.run(id: "s1") == nil)
        #expect(table.accept(id: "s1", at: 1000.5, now: 1000.2) == .duplicate)
        #expect(table.accept(id: "late", at: 999, now: 1000) == .schedule(in: .zero))
        #expect(table.cancelAll() == ["late"])
        #expect(table.run(id: "late") == nil)
        // Only the last runs are remembered.
        for id in ["a", "b", "c"] {
            _ = table.accept(id: id, at: 0, now: 0)
            _ = table.run(id: id)
        }
        #expect(table.accept(id: "s1", at: 0, now: 0) == .schedule(in: .zero))
        #expect(table.accept(id: "c", at: 0, now: 0) == .duplicate)
    }

    @Test("a peer cannot make the table grow without bound: past its limit a start is refused, and room comes back as starts run")
    func bounded() {
        var table = TimedStartTable(maximumScheduled: 3)
        for n in 1...3 { #expect(table.accept(id: "s\(n)", at: 100, now: 0) == .schedule(in: .seconds(100))) }
        #expect(table.accept(id: "s4", at: 100, now: 0) == .full)
        #expect(table.accept(id: "s1", at: 100, now: 0) == .duplicate)
        #expect(table.run(id: "s1") == 100)
        #expect(table.accept(id: "s4", at: 100, now: 50) == .schedule(in: .seconds(50)))
        #expect(TimedStartTable().maximumScheduled == 1024)
    }

    @Test("the x-clever-start kwargs round-trip; a malformed one is refused")
    func request() {
        let start = TimedStartRequest(id: "7f", action: "start", kwargs: ["speed": 2], at: 1_700_000_000.125)
        #expect(TimedStartRequest(start.jsonObject) == start)
        #expect(TimedStartRequest(["id": "7f", "action": "start", "at": "soon"]) == nil)
        #expect(TimedStartRequest(["id": "7f", "action": "start", "at": .double(.infinity)]) == nil)
        #expect(TimedStartRequest(["id": "7f", "action": "start", "at": 1e300]) == nil)
        #expect(TimedStartRequest(["id": "7f", "action": "start", "at": 5, "kwargs": [1]]) == nil)
        #expect(TimedStartRequest(["id": "7f", "action": "start", "at": 5])?.kwargs == [:])
    }
}
