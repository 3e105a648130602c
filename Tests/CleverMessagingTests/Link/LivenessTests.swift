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
        let r1 = live.tick(now: start + .seconds(4))
        #expect(r1 == .none)
        live.bytesRead(now: start + .seconds(4))
        let r2 = live.tick(now: start + .seconds(5))
        #expect(r2 == .none, "heard 1 s ago")
        #expect(live.nextWake(now: start + .seconds(5)) == start + .seconds(9))
        let r3 = live.tick(now: start + .seconds(9))
        #expect(r3 == .ping)
        live.pingSent(id: "0001", now: start + .seconds(9))
        let r4 = live.tick(now: start + .seconds(12))
        #expect(r4 == .none, "no second ping while one is out")
        live.bytesRead(now: start + .milliseconds(9050))
        live.pingSettled()
        #expect(live.ping == nil)
        #expect(live.nextWake(now: start + .seconds(10)) == start + .milliseconds(14050))
    }

    @Test("a ping out and nothing moving for the timeout gives the link up")
    func silentLinkClosed() {
        var live = machine()
        let r5 = live.tick(now: start + .seconds(5))
        #expect(r5 == .ping)
        live.pingSent(id: "0001", now: start + .seconds(5))
        #expect(live.nextWake(now: start + .seconds(5)) == start + .seconds(15))
        let r6 = live.tick(now: start + .milliseconds(14_999))
        #expect(r6 == .none)
        let r7 = live.tick(now: start + .seconds(15))
        #expect(r7 == .close(idle: .seconds(15)))
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
            let r8 = live.tick(now: now)
            #expect(r8 == .none, "second \(second)")
        }
        // The push ends; the link goes quiet: a ping after an interval, a close a timeout later.
        let r9 = live.tick(now: now + .seconds(5))
        #expect(r9 == .ping)
        live.pingSent(id: "0002", now: now + .seconds(5))
        let r10 = live.tick(now: now + .seconds(14))
        #expect(r10 == .none)
        let r11 = live.tick(now: now + .seconds(15))
        #expect(r11 == .close(idle: .seconds(15)))
    }

    @Test("a ping stuck behind a push does not close the link while the push moves; the push stalling does")
    func pingBehindPush() {
        var live = machine()
        let r12 = live.tick(now: start + .seconds(5))
        #expect(r12 == .ping)
        live.pingSent(id: "0001", now: start + .seconds(5))
        live.outboundProgress(now: start + .seconds(12))
        let r13 = live.tick(now: start + .seconds(15))
        #expect(r13 == .none, "progress 3 s ago")
        #expect(live.nextWake(now: start + .seconds(15)) == start + .seconds(22))
        let r14 = live.tick(now: start + .seconds(22))
        #expect(r14 == .close(idle: .seconds(10)))
    }

    @Test("a small write into an idle link proves nothing: a dead peer's socket takes it too")
    func smallWritesAreNotProgress() {
        var live = machine()
        for second in 1...4 {
            live.writeCompleted(bytes: 120, stillInFlight: 0, now: start + .seconds(Int64(second)))
        }
        #expect(live.lastProgress == start)
        let r15 = live.tick(now: start + .seconds(5))
        #expect(r15 == .ping)
        live.writeCompleted(bytes: 120, stillInFlight: 200, now: start + .seconds(6))
        #expect(live.lastProgress == start + .seconds(6), "a write with more behind it was paced by the peer")
        live.writeCompleted(bytes: Liveness.progressWriteBytes, stillInFlight: 0, now: start + .seconds(7))
        #expect(live.lastProgress == start + .seconds(7))
    }

    @Test("the peer talking after an unanswered ping keeps the link; silence afterwards closes it a timeout later")
    func latePeer() {
        var live = machine()
        let r16 = live.tick(now: start + .seconds(5))
        #expect(r16 == .ping)
        live.pingSent(id: "0001", now: start + .seconds(5))
        live.bytesRead(now: start + .seconds(14))
        let r17 = live.tick(now: start + .seconds(16))
        #expect(r17 == .none)
        let r18 = live.tick(now: start + .seconds(24))
        #expect(r18 == .close(idle: .seconds(10)))
    }

    @Test("a peer not known to answer pings is never pinged nor given up, and needs no timer until it shows the extensions")
    func referencePeer() {
        var live = Liveness(interval: .seconds(5), timeout: .seconds(10), now: start)
        let r19 = live.tick(now: start + .seconds(60))
        #expect(r19 == .none)
        #expect(live.nextWake(now: start + .seconds(60)) == nil)
        live.peerAnswersPings = true
        #expect(live.nextWake(now: start + .seconds(60)) == start + .seconds(5))
        let r20 = live.tick(now: start + .seconds(65))
        #expect(r20 == .ping)
    }

    @Test("no interval: the machine is off")
    func off() {
        var live = machine(interval: nil)
        let r21 = live.tick(now: start + .seconds(3600))
        #expect(r21 == .none)
        #expect(live.nextWake(now: start) == nil)
    }

    func counters(acked: UInt64, received: UInt64 = 0) -> TransportCounters {
        TransportCounters(bytesAcknowledged: acked, bytesReceived: received, bytesHandedToTCP: acked)
    }

    @Test("bytes the peer's TCP acknowledged are progress: a body draining from the kernel's buffers defers the ping")
    func acknowledgedBytesDeferPing() {
        var live = machine(interval: .seconds(2), timeout: .seconds(3))
        live.transportSampled(counters(acked: 1_000), now: start + .seconds(1))
        #expect(live.lastProgress == start, "the first sample only sets the base")
        live.transportSampled(counters(acked: 190_000), now: start + .seconds(2))
        #expect(live.tick(now: start + .seconds(2)) == .none, "acknowledged bytes moved just now")
        #expect(live.nextWake(now: start + .seconds(2)) == start + .seconds(4))
        live.transportSampled(counters(acked: 190_000), now: start + .seconds(4))
        #expect(live.tick(now: start + .seconds(4)) == .ping, "nothing acknowledged for the interval")
    }

    @Test("acknowledged bytes keep a link with a ping out, however late the ping; when they stop, the link is given up")
    func acknowledgedBytesKeepLinkWithPingOut() {
        var live = machine(interval: .seconds(2), timeout: .seconds(3))
        live.transportSampled(counters(acked: 0), now: start)
        #expect(live.tick(now: start + .seconds(2)) == .ping)
        live.pingSent(id: "0001", now: start + .seconds(2))
        var acked: UInt64 = 0
        // 20 s of a 1.5 Mbit/s push, sampled at every wake; the ping waits behind it.
        var now = start + .seconds(2)
        while now < start + .seconds(22) {
            now = live.nextWake(now: now)!
            acked += 187_500 * 3
            live.transportSampled(counters(acked: acked), now: now)
            #expect(live.tick(now: now) == .none)
        }
        now = live.nextWake(now: now)!
        live.transportSampled(counters(acked: acked), now: now)
        #expect(live.tick(now: now) == .close(idle: .seconds(3)))
    }

    @Test("bytes the kernel received from the peer are progress, read by the application or not")
    func receivedBytesAreProgress() {
        var live = machine(interval: .seconds(2), timeout: .seconds(3))
        live.transportSampled(counters(acked: 0, received: 0), now: start)
        live.transportSampled(counters(acked: 0, received: 10), now: start + .milliseconds(1500))
        #expect(live.tick(now: start + .seconds(2)) == .none)
        #expect(live.nextWake(now: start + .seconds(2)) == start + .milliseconds(3500))
    }

    @Test("the kernel's counters are read only when the link would be pinged or given up; reads since drop the old base")
    func samplesOnlyWhenNeeded() {
        var live = machine(interval: .seconds(2), timeout: .seconds(3))
        live.transportSampled(counters(acked: 1_000), now: start)
        live.bytesRead(now: start + .seconds(1))
        let early = live.wantsTransportSample(now: start + .seconds(2))
        #expect(!early, "bytes read a second ago keep the link alive")
        // Acknowledged bytes counted against the dropped base would pass for progress made now.
        let due = live.wantsTransportSample(now: start + .seconds(3))
        #expect(due)
        live.transportSampled(counters(acked: 500_000), now: start + .seconds(3))
        #expect(live.lastProgress == start + .seconds(1), "the sample after a dropped base only sets a new one")
        #expect(live.tick(now: start + .seconds(3)) == .ping)
    }
    @Test("the peer's TCP last heard from counts at the time it came: frames it acknowledged since the last read defer the ping, a silent peer is pinged and given up")
    func lastPeerSegmentIsProgress() {
        var live = machine(interval: .seconds(2), timeout: .seconds(3))
        live.bytesRead(now: start + .seconds(1))
        // A request went out at 2.5 s and the peer's TCP acknowledged it; its reply is not in yet.
        let due = live.wantsTransportSample(now: start + .seconds(3))
        #expect(due)
        live.transportSampled(
            TransportCounters(bytesAcknowledged: 9, bytesReceived: 0, bytesHandedToTCP: 9, sincePeerSegment: .milliseconds(500)),
            now: start + .seconds(3)
        )
        #expect(live.lastProgress == start + .milliseconds(2500))
        #expect(live.tick(now: start + .seconds(3)) == .none, "heard from the peer's TCP half a second ago")
        #expect(live.nextWake(now: start + .seconds(3)) == start + .milliseconds(4500))
        // Nothing since: pinged, then given up once the ping is out a timeout with nothing heard.
        live.transportSampled(
            TransportCounters(bytesAcknowledged: 9, bytesReceived: 0, bytesHandedToTCP: 9, sincePeerSegment: .seconds(2)),
            now: start + .milliseconds(4500)
        )
        #expect(live.tick(now: start + .milliseconds(4500)) == .ping)
        live.pingSent(id: "0002", now: start + .milliseconds(4500))
        live.transportSampled(
            TransportCounters(bytesAcknowledged: 9, bytesReceived: 0, bytesHandedToTCP: 20, sincePeerSegment: .seconds(5)),
            now: start + .milliseconds(7500)
        )
        #expect(live.tick(now: start + .milliseconds(7500)) == .close(idle: .seconds(5)))
    }
}
