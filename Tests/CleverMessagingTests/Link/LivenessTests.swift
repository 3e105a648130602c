import NIOCore
import Testing

@testable import CleverMessaging

/// The liveness machine, driven with explicit instants: no socket, no loop, no sleep.
@Suite("Liveness")
struct LivenessTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    func machine(interval: TimeAmount? = .seconds(5), timeout: TimeAmount = .seconds(10)) -> Liveness {
        Liveness(interval: interval, timeout: timeout, peerAnswersPings: true, now: start)
    }

    @Test("an idle link is pinged once per interval of idleness; a link that reads is not")
    func pingsOnlyWhenIdle() {
        var live = machine()
        #expect(live.nextWake(now: start) == start + .seconds(5))
        #expect(live.tick(now: start + .seconds(4)) == .none)
        live.bytesRead(now: start + .seconds(4))
        #expect(live.tick(now: start + .seconds(5)) == .none, "heard 1 s ago")
        #expect(live.nextWake(now: start + .seconds(5)) == start + .seconds(9))
        #expect(live.tick(now: start + .seconds(9)) == .ping)
        live.pingSent(id: "0001", now: start + .seconds(9))
        #expect(live.tick(now: start + .seconds(12)) == .none, "no second ping while one is out")
        live.bytesRead(now: start + .milliseconds(9050))
        live.pingSettled()
        #expect(live.ping == nil)
        #expect(live.nextWake(now: start + .seconds(10)) == start + .milliseconds(14050))
    }

    @Test("a ping out and nothing moving for the timeout gives the link up")
    func silentLinkClosed() {
        var live = machine()
        #expect(live.tick(now: start + .seconds(5)) == .ping)
        live.pingSent(id: "0001", now: start + .seconds(5))
        #expect(live.nextWake(now: start + .seconds(5)) == start + .seconds(15))
        #expect(live.tick(now: start + .milliseconds(14_999)) == .none)
        #expect(live.tick(now: start + .seconds(15)) == .close(idle: .seconds(15)))
        #expect(live.ping == nil)
    }

    @Test("a long push to a slow peer is never cut: its writes keep the link alive while the ping waits behind it")
    func slowPushKept() {
        var live = machine()
        // The push starts; the peer says nothing while it receives.
        var now = start
        for second in 1...120 {
            now = start + .seconds(Int64(second))
            // One 1 MiB region a second completes on the slow link.
            live.writeCompleted(bytes: 1 << 20, stillInFlight: 8 << 20, now: now)
            #expect(live.tick(now: now) == .none, "second \(second)")
        }
        // The push ends; the link goes quiet: a ping after an interval, a close a timeout later.
        #expect(live.tick(now: now + .seconds(5)) == .ping)
        live.pingSent(id: "0002", now: now + .seconds(5))
        #expect(live.tick(now: now + .seconds(14)) == .none)
        #expect(live.tick(now: now + .seconds(15)) == .close(idle: .seconds(15)))
    }

    @Test("a ping stuck behind a push does not close the link while the push moves; the push stalling does")
    func pingBehindPush() {
        var live = machine()
        #expect(live.tick(now: start + .seconds(5)) == .ping)
        live.pingSent(id: "0001", now: start + .seconds(5))
        live.outboundProgress(now: start + .seconds(12))
        #expect(live.tick(now: start + .seconds(15)) == .none, "progress 3 s ago")
        #expect(live.nextWake(now: start + .seconds(15)) == start + .seconds(22))
        #expect(live.tick(now: start + .seconds(22)) == .close(idle: .seconds(10)))
    }

    @Test("a small write into an idle link proves nothing: a dead peer's socket takes it too")
    func smallWritesAreNotProgress() {
        var live = machine()
        for second in 1...4 {
            live.writeCompleted(bytes: 120, stillInFlight: 0, now: start + .seconds(Int64(second)))
        }
        #expect(live.lastProgress == start)
        #expect(live.tick(now: start + .seconds(5)) == .ping)
        live.writeCompleted(bytes: 120, stillInFlight: 200, now: start + .seconds(6))
        #expect(live.lastProgress == start + .seconds(6), "a write with more behind it was paced by the peer")
        live.writeCompleted(bytes: Liveness.progressWriteBytes, stillInFlight: 0, now: start + .seconds(7))
        #expect(live.lastProgress == start + .seconds(7))
    }

    @Test("the peer talking after an unanswered ping keeps the link; silence afterwards closes it a timeout later")
    func latePeer() {
        var live = machine()
        #expect(live.tick(now: start + .seconds(5)) == .ping)
        live.pingSent(id: "0001", now: start + .seconds(5))
        live.bytesRead(now: start + .seconds(14))
        #expect(live.tick(now: start + .seconds(16)) == .none)
        #expect(live.tick(now: start + .seconds(24)) == .close(idle: .seconds(10)))
    }

    @Test("a peer not known to answer pings is never pinged nor given up, but looked at again each interval")
    func referencePeer() {
        var live = Liveness(interval: .seconds(5), timeout: .seconds(10), now: start)
        #expect(live.tick(now: start + .seconds(60)) == .none)
        #expect(live.nextWake(now: start + .seconds(60)) == start + .seconds(65))
        live.peerAnswersPings = true
        #expect(live.tick(now: start + .seconds(65)) == .ping)
    }

    @Test("no interval: the machine is off")
    func off() {
        var live = machine(interval: nil)
        #expect(live.tick(now: start + .seconds(3600)) == .none)
        #expect(live.nextWake(now: start) == nil)
    }
}
