import Testing

@testable import CleverMessaging

@Suite("LinkLifecycle")
struct LinkLifecycleTests {
    @Test("idle → handshaking → open → idle (lost) → handshaking again: a reconnect")
    func reconnect() {
        var life = LinkLifecycle()
        #expect(life.phase == .idle)
        let r1 = life.linkUp(stages: 2)
        #expect(r1 == .startHandshake)
        #expect(life.isLinked && !life.isOpen)
        let r2 = life.handshakePassed()
        #expect(r2 == .open)
        #expect(life.isOpen)
        let r3 = life.linkDown()
        #expect(r3 == .linkLost)
        #expect(life.phase == .idle)
        let r4 = life.linkUp(stages: 0)
        #expect(r4 == .open, "no stage: open at once")
        #expect(life.linkCount == 2)
    }

    @Test("a failed handshake closes the link; the connection waits for the next")
    func handshakeFails() {
        var life = LinkLifecycle()
        _ = life.linkUp(stages: 1)
        let r5 = life.handshakeFailed()
        #expect(r5 == .closeLink)
        let r6 = life.linkDown()
        #expect(r6 == .linkLost)
        let r7 = life.handshakePassed()
        #expect(r7 == .none, "no handshake runs")
        #expect(!life.isClosed)
    }

    @Test("close drains an open link, then it is closed for good; later links are refused")
    func closeDrains() {
        var life = LinkLifecycle()
        _ = life.linkUp(stages: 0)
        let r8 = life.close()
        #expect(r8 == .drainAndClose)
        #expect(life.isClosed && life.isOpen)
        let r9 = life.close()
        #expect(r9 == .none)
        let r10 = life.linkDown()
        #expect(r10 == .linkEnded)
        #expect(life.phase == .closed)
        let r11 = life.linkUp(stages: 0)
        #expect(r11 == .refuseLink)
    }

    @Test("close with no link fails what waits at once")
    func closeIdle() {
        var life = LinkLifecycle()
        let r12 = life.close()
        #expect(r12 == .failWaiting)
        #expect(life.phase == .closed)
    }

    @Test("close during the handshake drains (nothing queued is written: the queue is held) and ends the link")
    func closeWhileHandshaking() {
        var life = LinkLifecycle()
        _ = life.linkUp(stages: 1)
        let r13 = life.close()
        #expect(r13 == .drainAndClose)
        let r14 = life.handshakePassed()
        #expect(r14 == .none)
        let r15 = life.linkDown()
        #expect(r15 == .linkEnded)
    }

    @Test("a client's attempts: connecting, failed back to idle, connecting again, then the link")
    func attempts() {
        var life = LinkLifecycle()
        life.connecting()
        #expect(life.phase == .connecting)
        #expect(!life.isLinked)
        life.connectFailed()
        #expect(life.phase == .idle)
        life.connecting()
        let up = life.linkUp(stages: 1)
        #expect(up == .startHandshake)
        life.connectFailed()
        #expect(life.phase == .handshaking, "a late failure report changes nothing")
        var closing = LinkLifecycle()
        closing.connecting()
        let closed = closing.close()
        #expect(closed == .failWaiting)
    }
}
