@testable import CleverMessaging
import NIOCore
import Testing

/// The sender's resend window: numbers, cumulative acknowledgement, what is
/// resent on reattach, and its bounds.
@Suite("ResendWindow")
struct ResendWindowTests {
    private func frame(_ size: Int) -> ByteBuffer {
        ByteBuffer(repeating: 0x61, count: size)
    }

    @Test("actions are numbered from 1, in order")
    func numbering() throws {
        var window = ResendWindow<Int>(maximumCount: 10, maximumBytes: 1000)
        #expect(try window.append(frame(5), token: 100) == 1)
        #expect(try window.append(frame(5), token: 101) == 2)
        #expect(window.nextSequence == 3)
        #expect(window.count == 2)
        #expect(window.bytes == 10)
    }

    @Test("a cumulative acknowledgement settles every action through it, once")
    func cumulative() throws {
        var window = ResendWindow<Int>(maximumCount: 10, maximumBytes: 1000)
        for token in 1...5 { try window.append(frame(3), token: token) }
        #expect(window.acknowledge(through: 3) == [1, 2, 3])
        #expect(window.acknowledge(through: 3) == [])
        #expect(window.acknowledge(through: 2) == [])
        #expect(window.count == 2)
        #expect(window.bytes == 6)
        // An acknowledgement past what was sent settles what was sent, and no more.
        #expect(window.acknowledge(through: 99) == [4, 5])
        #expect(window.acknowledged == 5)
        #expect(try window.append(frame(3), token: 6) == 6)
    }

    @Test("reattaching settles what the peer received and resends the rest, in order")
    func reattach() throws {
        var window = ResendWindow<Int>(maximumCount: 10, maximumBytes: 1000)
        for token in 1...4 { try window.append(ByteBuffer(string: "f\(token)"), token: token) }
        let (settled, resend) = window.reattach(peerReceived: 2)
        #expect(settled == [1, 2])
        #expect(resend.map { String(buffer: $0) } == ["f3", "f4"])
        // The peer received nothing new: everything unacknowledged goes again.
        #expect(window.reattach(peerReceived: 0).resend.count == 2)
    }

    @Test("a full window refuses with resend_window_full, by count and by bytes")
    func bounds() throws {
        var byCount = ResendWindow<Int>(maximumCount: 2, maximumBytes: 1000)
        try byCount.append(frame(1), token: 1)
        try byCount.append(frame(1), token: 2)
        #expect(throws: MessagingError.resendWindowFull(count: 2, bytes: 2)) { try byCount.append(frame(1), token: 3) }
        #expect(MessagingError.resendWindowFull(count: 2, bytes: 2).code.rawValue == "resend_window_full")
        #expect(byCount.nextSequence == 3, "a refused action takes no number")
        _ = byCount.acknowledge(through: 1)
        #expect(try byCount.append(frame(1), token: 3) == 3)

        var byBytes = ResendWindow<Int>(maximumCount: 100, maximumBytes: 10)
        try byBytes.append(frame(8), token: 1)
        #expect(throws: MessagingError.resendWindowFull(count: 1, bytes: 8)) { try byBytes.append(frame(3), token: 2) }
        // One action larger than the bound still goes when the window is empty.
        var empty = ResendWindow<Int>(maximumCount: 100, maximumBytes: 10)
        #expect(try empty.append(frame(50), token: 1) == 1)
    }

    @Test("removeAll gives back every unsettled token")
    func removeAll() throws {
        var window = ResendWindow<Int>(maximumCount: 10, maximumBytes: 1000)
        for token in 1...3 { try window.append(frame(1), token: token) }
        #expect(window.removeAll() == [1, 2, 3])
        #expect(window.count == 0)
        #expect(window.bytes == 0)
    }
}
