@testable import CleverMessaging
import CleverTestSupport
import NIOCore
import Testing

/// The sender's resend window: numbers, cumulative acknowledgement, what is
/// resent on reattach, and its bounds.
@Suite("ResendWindow")
struct ResendWindowTests {
    /// Keeps a frame of `text` (as an encoder would write it).
    @discardableResult
    private func append(_ window: inout ResendWindow, _ text: String) throws(ResendWindowAppendError<Never>) -> UInt64 {
        var nothing: Void = ()
        return try window.append(with: &nothing) { _, buffer in buffer.writeString(text) }.sequence
    }

    private func append(_ window: inout ResendWindow, size: Int) throws(ResendWindowAppendError<Never>) -> UInt64 {
        try append(&window, String(repeating: "a", count: size))
    }

    @Test("actions are numbered from 1, in order, and the frame kept is the one encoded")
    func numbering() throws {
        var window = ResendWindow(maximumCount: 10, maximumBytes: 1000)
        var nothing: Void = ()
        let first = try window.append(with: &nothing) { _, buffer in buffer.writeString("f1") }
        #expect(first.sequence == 1)
        #expect(String(buffer: first.frame) == "f1")
        #expect(try append(&window, "f22") == 2)
        #expect(window.nextSequence == 3)
        #expect(window.count == 2)
        #expect(window.bytes == 5)
    }

    @Test("a frame copied into the link's queue as it is kept is the frame kept, after what the queue held")
    func copyingInto() throws {
        var window = ResendWindow(maximumCount: 10, maximumBytes: 1000)
        var nothing: Void = ()
        var queue = ByteBuffer(string: "queued;")
        #expect(try window.append(with: &nothing, copyingInto: &queue) { _, buffer in buffer.writeString("f1") } == 1)
        _ = try append(&window, "f22")
        #expect(window.acknowledge(through: 1) == 1, "the window's reader moved: the next copy starts at the right byte")
        #expect(try window.append(with: &nothing, copyingInto: &queue) { _, buffer in buffer.writeString("f333") } == 3)
        #expect(String(buffer: queue) == "queued;f1f333")
        #expect(String(buffer: window.reattach(peerReceived: 1).resend) == "f22f333")
        // A frame that does not fit is neither kept nor copied.
        var small = ResendWindow(maximumCount: 1, maximumBytes: 1000)
        _ = try append(&small, "x")
        var untouched = ByteBuffer(string: "q")
        #expect(throws: ResendWindowAppendError<Never>.self) {
            try small.append(with: &nothing, copyingInto: &untouched) { _, buffer in buffer.writeString("y") }
        }
        #expect(String(buffer: untouched) == "q")
    }

    @Test("a cumulative acknowledgement settles every action through it, once")
    func cumulative() throws {
        var window = ResendWindow(maximumCount: 10, maximumBytes: 1000)
        for _ in 1...5 { _ = try append(&window, size: 3) }
        #expect(window.acknowledge(through: 3) == 3)
        #expect(window.acknowledge(through: 3) == 0)
        #expect(window.acknowledge(through: 2) == 0)
        #expect(window.count == 2)
        #expect(window.bytes == 6)
        // An acknowledgement past what was sent settles what was sent, and no more.
        #expect(window.acknowledge(through: 99) == 2)
        #expect(window.acknowledged == 5)
        #expect(window.bytes == 0)
        #expect(try append(&window, size: 3) == 6)
    }

    @Test("reattaching settles what the peer received and resends the rest, in order, in one buffer")
    func reattach() throws {
        var window = ResendWindow(maximumCount: 10, maximumBytes: 1000)
        for n in 1...4 { try append(&window, "f\(n)") }
        let (settled, resend) = window.reattach(peerReceived: 2)
        #expect(settled == 2)
        #expect(String(buffer: resend) == "f3f4")
        // The peer received nothing new: everything unacknowledged goes again.
        #expect(String(buffer: window.reattach(peerReceived: 0).resend) == "f3f4")
    }

    @Test("a full window refuses with resend_window_full, by count and by bytes, and keeps nothing")
    func bounds() throws {
        var byCount = ResendWindow(maximumCount: 2, maximumBytes: 1000)
        _ = try append(&byCount, size: 1)
        _ = try append(&byCount, size: 1)
        #expect(throws: ResendWindowAppendError<Never>.self) { try append(&byCount, size: 1) }
        do throws(ResendWindowAppendError<Never>) {
            _ = try append(&byCount, size: 1)
        } catch {
            guard case .full(let full) = error else { Issue.record("got \(error)"); return }
            #expect(full == .resendWindowFull(count: 2, bytes: 2))
            #expect(full.code.rawValue == "resend_window_full")
        }
        #expect(byCount.nextSequence == 3, "a refused action takes no number")
        _ = byCount.acknowledge(through: 1)
        #expect(try append(&byCount, size: 1) == 3)

        var byBytes = ResendWindow(maximumCount: 100, maximumBytes: 10)
        _ = try append(&byBytes, size: 8)
        #expect(throws: ResendWindowAppendError<Never>.self) { try append(&byBytes, size: 3) }
        #expect(byBytes.bytes == 8, "the refused frame's bytes are not kept")
        // One action larger than the bound still goes when the window is empty.
        var empty = ResendWindow(maximumCount: 100, maximumBytes: 10)
        #expect(try append(&empty, size: 50) == 1)
    }

    @Test("a frame that fails to encode is not kept and takes no number")
    func encodingFailure() throws {
        struct Failure: Error {}
        var window = ResendWindow(maximumCount: 10, maximumBytes: 1000)
        try append(&window, "f1")
        var nothing: Void = ()
        #expect(throws: ResendWindowAppendError<Failure>.self) {
            try window.append(with: &nothing) { (_, buffer) throws(Failure) in
                buffer.writeString("half a frame")
                throw Failure()
            }
        }
        #expect(window.bytes == 2)
        #expect(window.nextSequence == 2)
    }

    @Test("acknowledged frames give their space back while later ones wait")
    func compaction() throws {
        var window = ResendWindow(maximumCount: 100_000, maximumBytes: 100 << 20)
        for n in 0..<10_000 {
            try append(&window, String(repeating: "x", count: 100))
            if n % 10 == 9 { _ = window.acknowledge(through: window.nextSequence - 2) }
        }
        #expect(window.count == 1)
        #expect(window.bytes == 100)
        #expect(String(buffer: window.reattach(peerReceived: 9_999).resend) == String(repeating: "x", count: 100))
    }

    @Test("acknowledging drops whole chunks of storage and moves no kept byte")
    func chunksDroppedWhole() throws {
        var window = ResendWindow(maximumCount: 100_000, maximumBytes: 100 << 20)
        let frame = String(repeating: "y", count: 1000)
        // Enough frames for several chunks.
        for _ in 0..<(5 * ResendWindow.chunkCapacity / 1000) { try append(&window, frame) }
        #expect(window.chunks > 4)
        // Settling all but the last frame keeps only the chunk that frame is in.
        let last = window.nextSequence - 1
        #expect(window.acknowledge(through: last - 1) == Int(last - 1))
        #expect(window.chunks == 1)
        #expect(window.bytes == 1000)
        #expect(String(buffer: window.reattach(peerReceived: 0).resend) == frame)
        // A frame larger than a chunk is kept whole too.
        let large = String(repeating: "z", count: 3 * ResendWindow.chunkCapacity)
        try append(&window, large)
        try append(&window, "after")
        #expect(String(buffer: window.reattach(peerReceived: last).resend) == large + "after")
        #expect(window.acknowledge(through: window.nextSequence - 1) == 2)
        #expect(window.bytes == 0)
        #expect(window.chunks == 1)
    }

    /// What the window must hold, kept in the plainest way.
    private struct Model {
        var frames: [(sequence: UInt64, bytes: [UInt8])] = []
        var nextSequence: UInt64 = 1
        var acknowledged: UInt64 = 0
        var bytes: Int { frames.reduce(0) { $0 + $1.bytes.count } }
        var resend: [UInt8] { frames.flatMap(\.bytes) }

        mutating func acknowledge(through sequence: UInt64) -> Int {
            let sequence = min(sequence, nextSequence - 1)
            guard sequence > acknowledged else { return 0 }
            defer { acknowledged = sequence }
            frames.removeAll { $0.sequence <= sequence }
            return Int(sequence - acknowledged)
        }
    }

    @Test("a seeded random run of appends, acknowledgements and reattaches matches a plain model", arguments: [1, 2, 3, 42] as [UInt64])
    func randomAgainstModel(seed: UInt64) throws {
        var random = SeededRNG(seed: seed)
        let maximumCount = 300
        let maximumBytes = 300_000
        var window = ResendWindow(maximumCount: maximumCount, maximumBytes: maximumBytes)
        var model = Model()
        var nothing: Void = ()
        struct Failure: Error {}
        for step in 0..<3_000 {
            let choice = Int.random(in: 0..<100, using: &random)
            switch choice {
            case 0..<55:
                // Mostly small frames, some of several kilobytes, a few larger than a chunk.
                let size = switch Int.random(in: 0..<100, using: &random) {
                case 0..<80: Int.random(in: 1...300, using: &random)
                case 80..<99: Int.random(in: 300...9_000, using: &random)
                default: Int.random(in: 60_000...140_000, using: &random)
                }
                let sequence = model.nextSequence
                let frame = (0..<size).map { UInt8(truncatingIfNeeded: Int(sequence) &* 31 &+ $0) }
                let fits = model.frames.count < maximumCount && (model.frames.isEmpty || model.bytes + size <= maximumBytes)
                let failing = Int.random(in: 0..<50, using: &random) == 0
                do throws(ResendWindowAppendError<Failure>) {
                    if Bool.random(using: &random) {
                        var queue = ByteBuffer(string: "q")
                        let number = try window.append(with: &nothing, copyingInto: &queue) { (_, buffer) throws(Failure) in
                            buffer.writeBytes(frame)
                            if failing { throw Failure() }
                        }
                        #expect(number == sequence)
                        #expect(queue.readableBytesView.elementsEqual([UInt8(ascii: "q")] + frame), "step \(step)")
                    } else {
                        let (number, kept) = try window.append(with: &nothing) { (_, buffer) throws(Failure) in
                            buffer.writeBytes(frame)
                            if failing { throw Failure() }
                        }
                        #expect(number == sequence)
                        #expect(kept.readableBytesView.elementsEqual(frame), "step \(step)")
                    }
                    #expect(fits && !failing, "step \(step): kept a frame the model refuses")
                    model.frames.append((sequence, frame))
                    model.nextSequence += 1
                } catch {
                    switch error {
                    case .full(let full):
                        #expect(!fits, "step \(step): refused a frame that fits")
                        #expect(full == .resendWindowFull(count: model.frames.count, bytes: model.bytes))
                    case .encoding:
                        #expect(failing, "step \(step): an encoding error nobody threw")
                    }
                }
            case 55..<88:
                let low = model.acknowledged > 2 ? model.acknowledged - 2 : 0
                let through = UInt64.random(in: low...(model.nextSequence + 2), using: &random)
                #expect(window.acknowledge(through: through) == model.acknowledge(through: through), "step \(step)")
            case 88..<96:
                // A reconnect: the peer received through some number at or below what was sent.
                let received = UInt64.random(in: 0...model.nextSequence - 1, using: &random)
                let expectedSettled = model.acknowledge(through: received)
                let (settled, resend) = window.reattach(peerReceived: received)
                #expect(settled == expectedSettled, "step \(step)")
                #expect(resend.readableBytesView.elementsEqual(model.resend), "step \(step)")
                var copy = ByteBuffer(string: "q")
                window.writeUnacknowledged(into: &copy)
                #expect(copy.readableBytesView.elementsEqual([UInt8(ascii: "q")] + model.resend), "step \(step)")
            default:
                // Everything acknowledged at once now and then, so that chunks empty and are reused.
                let through = model.nextSequence - 1
                #expect(window.acknowledge(through: through) == model.acknowledge(through: through), "step \(step)")
                #expect(window.chunks == 1, "step \(step)")
            }
            #expect(window.count == model.frames.count, "step \(step)")
            #expect(window.bytes == model.bytes, "step \(step)")
            #expect(window.nextSequence == model.nextSequence, "step \(step)")
            #expect(window.acknowledged == model.acknowledged, "step \(step)")
        }
        #expect(window.reattach(peerReceived: 0).resend.readableBytesView.elementsEqual(model.resend))
    }

    @Test("removeAll forgets every action and says how many were not acknowledged")
    func removeAll() throws {
        var window = ResendWindow(maximumCount: 10, maximumBytes: 1000)
        for _ in 1...3 { _ = try append(&window, size: 1) }
        #expect(window.removeAll() == 3)
        #expect(window.count == 0)
        #expect(window.bytes == 0)
    }
}
