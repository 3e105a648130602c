import CleverMessaging
import Logging
import NIOCore

/// A link's handshake as a pure state machine, fed what a hostile peer sends.
///
/// The first input byte picks the stages' settings; the rest is decoded as a
/// frame stream, and each frame (or binary head) goes to ``HandshakeRun``,
/// with the clock moving on by the next byte's worth of 10 ms steps. Checked:
/// the run never holds more than its limit of frames, a finished run stays
/// finished, and everything the stages send can be written.
enum HandshakeFuzz {
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
    static let logger = Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() }

    static func run(_ input: UnsafeRawBufferPointer) {
        guard let settings = input.first else { return }
        let stages: [any HandshakeStage] = [
            CapabilityStage(wait: settings & 1 == 0 ? .zero : .seconds(1)),
            IdentifyStage(timeout: .seconds(5), asksCloverDirectory: settings & 2 != 0),
            makeDeliveryHelloStage(session: "fuzz-session", received: UInt64(settings >> 5), announce: settings & 4 != 0, wait: .seconds(1)),
        ]
        let context = HandshakeContext(
            link: HandshakeLink(remoteAddress: nil, connectionNumber: 1, linkNumber: 1),
            logger: logger,
            peerSpeaksExtensions: settings & 8 != 0
        )
        var run = HandshakeRun(stages: stages, context: context, timeout: .seconds(30), now: start)
        var now = start
        var finished = check(run.start(now: now), previous: nil)
        flush(&run)

        var decoder = FrameDecoder(configuration: FuzzHarness.configuration)
        var buffer = ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: input[1...]))
        while true {
            let part: FramePart?
            do {
                part = try decoder.decode(buffer: &buffer)
            } catch {
                return  // the link closes on a decoding error
            }
            guard let part else { break }
            let outcome: HandshakeRun.Outcome
            switch part {
            case .frame(let frame):
                outcome = run.receive(frame, now: now)
            case .binaryHead:
                outcome = run.binaryFrameArrived()
            case .binaryBody, .binaryEnd:
                continue
            }
            finished = check(outcome, previous: finished)
            flush(&run)
            // The frame's own length moves the clock: long silences reach the deadlines.
            now = now + .milliseconds(Int64(buffer.readerIndex % 251) * 10)
            finished = check(run.tick(now: now), previous: finished)
            flush(&run)
            precondition(run.held.count <= HandshakeRun.maximumHeldFrames + 1, "the handshake holds more frames than its limit")
        }
        _ = check(run.tick(now: now + .seconds(60)), previous: finished)
    }

    /// Checks that a finished run stays finished; returns whether it is finished.
    private static func check(_ outcome: HandshakeRun.Outcome, previous: Bool?) -> Bool {
        switch outcome {
        case .waiting:
            precondition(previous != true, "a finished handshake went back to waiting")
            return false
        case .passed, .failed:
            return true
        }
    }

    /// Writes what the stages sent, as the link would.
    private static func flush(_ run: inout HandshakeRun) {
        var writer = FrameWriter()
        var out = ByteBuffer()
        for frame in run.takeOutbound() {
            do throws(FrameEncodingError) {
                try writer.write(frame, into: &out)
            } catch {
                preconditionFailure("a handshake stage sent a frame that cannot be written: \(error)")
            }
        }
    }
}
