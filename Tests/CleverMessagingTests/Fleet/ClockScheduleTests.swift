import CleverMessaging
import Testing

/// ``ClockSchedule``: which drones one loop measures when, with time as an input.
@Suite("Clock measuring schedule")
struct ClockScheduleTests {
    let start = ContinuousClock.now

    @Test("a drone is due when its link opens, then every interval; a failure is retried sooner")
    func cycle() {
        var schedule = ClockSchedule(interval: .seconds(10), retryDelay: .seconds(2))
        #expect(schedule.nextDue == nil)
        schedule.linked("a", now: start)
        schedule.linked("b", now: start + .milliseconds(1))
        #expect(schedule.take(now: start, limit: 10) == ["a"])
        #expect(schedule.take(now: start + .milliseconds(1), limit: 10) == ["b"])
        #expect(schedule.take(now: start + .seconds(1), limit: 10).isEmpty)
        schedule.finished("a", now: start + .milliseconds(5), succeeded: true)
        schedule.finished("b", now: start + .milliseconds(5), succeeded: false)
        #expect(schedule.nextDue == start + .milliseconds(2005))
        #expect(!schedule.isDue(now: start + .seconds(2)))
        #expect(schedule.take(now: start + .seconds(3), limit: 10) == ["b"])
        #expect(schedule.take(now: start + .seconds(10), limit: 10).isEmpty)
        #expect(schedule.take(now: start + .milliseconds(10_005), limit: 10) == ["a"])
    }

    @Test("the limit bounds one take; the rest stay due")
    func limit() {
        var schedule = ClockSchedule(interval: .seconds(10))
        for i in 0..<5 { schedule.linked("d\(i)", now: start + .milliseconds(i)) }
        #expect(schedule.take(now: start + .seconds(1), limit: 2) == ["d0", "d1"])
        #expect(schedule.isDue(now: start + .seconds(1)))
        #expect(schedule.take(now: start + .seconds(1), limit: 10) == ["d2", "d3", "d4"])
    }

    @Test("an unlinked drone is not measured; one that links again while measured is measured again at once")
    func links() {
        var schedule = ClockSchedule(interval: .seconds(10))
        schedule.linked("a", now: start)
        schedule.unlinked("a")
        #expect(schedule.take(now: start + .seconds(1), limit: 10).isEmpty)
        #expect(schedule.count == 0)
        schedule.linked("b", now: start)
        #expect(schedule.take(now: start, limit: 10) == ["b"])
        schedule.linked("b", now: start + .milliseconds(1))
        schedule.finished("b", now: start + .milliseconds(2), succeeded: true)
        #expect(schedule.take(now: start + .milliseconds(2), limit: 10) == ["b"])
        schedule.unlinked("b")
        schedule.finished("b", now: start + .milliseconds(3), succeeded: true)
        #expect(schedule.nextDue == nil || schedule.take(now: start + .seconds(60), limit: 10).isEmpty)
    }

    @Test("without an interval a drone is measured once per link")
    func noInterval() {
        var schedule = ClockSchedule(interval: nil)
        schedule.linked("a", now: start)
        #expect(schedule.take(now: start, limit: 1) == ["a"])
        schedule.finished("a", now: start, succeeded: true)
        #expect(schedule.take(now: start + .seconds(3600), limit: 1).isEmpty)
        #expect(schedule.count == 0)
    }

    @Test("a threshold crossing is said once each way")
    func threshold() {
        var estimate = ClockEstimate()
        func offset(_ ms: Int) -> ClockOffset {
            ClockOffset(offset: .milliseconds(ms), uncertainty: .zero, roundTrip: .zero, measuredAt: 0, method: .exchange)
        }
        #expect(estimate.update(offset(10), droneID: "a", threshold: .milliseconds(50)) == nil)
        #expect(estimate.update(offset(-60), droneID: "a", threshold: .milliseconds(50)) == .exceeded(droneID: "a", offset(-60)))
        #expect(estimate.update(offset(70), droneID: "a", threshold: .milliseconds(50)) == nil)
        #expect(estimate.update(offset(49), droneID: "a", threshold: .milliseconds(50)) == .withinThreshold(droneID: "a", offset(49)))
        #expect(estimate.latest == offset(49))
    }
}
