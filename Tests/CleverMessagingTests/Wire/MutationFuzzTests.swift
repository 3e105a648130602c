import NIOCore
import Testing

@testable import CleverMessaging

/// Seeded mutation fuzzing of the decoders, in every test run: the reference
/// vectors and this library's own frames, damaged the ways a broken or hostile
/// peer damages them (flipped bits, lying length prefixes, cut, repeated and
/// spliced bytes, JSON punctuation in odd places), cut into random reads.
///
/// Each input must end in parts or in a typed error (a crash fails the run);
/// the connection's decoding path (`decodeInbound`) must accept and refuse
/// exactly what the public `decode(buffer:)` does, with the same parts; and a
/// decoder never keeps more bytes than it was given. The coverage-guided
/// counterpart is `clever-fuzz` (README, Fuzzing).
@Suite("Mutation fuzzing of the decoders")
struct MutationFuzzTests {
    typealias RNG = WireTestKit.SeededRNG

    /// Limits small enough that mutated lengths reach them.
    static let configuration = FrameCodecConfiguration(
        maximumHeaderLength: 4096,
        maximumJSONContentLength: 64 * 1024,
        maximumBinaryContentLength: 1 << 20,
        json: JSONParsingLimits(maximumDepth: 32)
    )

    /// The inputs mutations start from.
    static let seeds: [[UInt8]] = {
        var seeds = Vectors.all.map(\.bytes)
        var writer = FrameWriter(marker: ExtensionHeader.capabilities)
        let frames: [Frame] = [
            .action("go", args: [1, "two", 3.5, nil, true], kwargs: ["time": "1700000000.5", "nested": ["a": [1, [2, [3]]]]]),
            .request("telemetry", id: "0042", args: [], kwargs: ["fields": ["battery", "x", "y"]]),
            .response("telemetry", id: "0042", value: ["battery": 12.5, "armed": false, "name": "copter\u{e9}\u{1F681}"]),
            .filePush(path: "animation.csv", bytes: ByteBuffer(string: "0,1,2\n3,4,5\n")),
        ]
        for frame in frames {
            var buffer = ByteBuffer()
            try? writer.write(frame, into: &buffer)
            seeds.append(Array(buffer.readableBytesView))
        }
        return seeds
    }()

    /// Bytes that change the meaning of JSON or of the frame layout.
    static let interesting: [UInt8] = Array("{}[]\",:\\0123456789-+.eEtfn \u{7F}".utf8) + [0x00, 0x01, 0x80, 0xC0, 0xE2, 0xF0, 0xFF]

    /// One damaged copy of a seed (sometimes of two seeds spliced).
    static func mutate(_ seed: [UInt8], other: [UInt8], using rng: inout RNG) -> [UInt8] {
        var bytes = seed
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            guard !bytes.isEmpty else {
                bytes = other
                continue
            }
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<9, using: &rng) {
            case 0:
                bytes[at] ^= UInt8(1) << UInt8.random(in: 0...7, using: &rng)
            case 1:
                bytes[at] = interesting.randomElement(using: &rng)!
            case 2:
                bytes.insert(interesting.randomElement(using: &rng)!, at: at)
            case 3:
                bytes.remove(at: at)
            case 4:
                // A lying length prefix, at the start or at any offset.
                let lengths: [UInt16] = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, UInt16.random(in: 0...0xFFFF, using: &rng)]
                let length = lengths.randomElement(using: &rng)!
                let where_ = Bool.random(using: &rng) ? 0 : at
                if where_ + 1 < bytes.count {
                    bytes[where_] = UInt8(length & 0xFF)
                    bytes[where_ + 1] = UInt8(length >> 8)
                }
            case 5:
                bytes.removeSubrange(at...)
            case 6:
                let end = min(bytes.count, at + Int.random(in: 1...64, using: &rng))
                bytes.insert(contentsOf: bytes[at..<end], at: end)
            case 7:
                let cut = Int.random(in: 0...other.count, using: &rng)
                bytes = Array(bytes[..<at]) + Array(other[cut...])
            default:
                // A digit string where a number or length is (content-length lies).
                let digits = Array(String(Int.random(in: 0...Int(Int32.max), using: &rng)).utf8)
                bytes.replaceSubrange(at..<min(bytes.count, at + digits.count), with: digits)
            }
        }
        return bytes
    }

    /// What one decoding of a stream ended with.
    struct Outcome: Equatable {
        /// One line per part: a JSON frame's kind and action, or a binary part's size.
        var parts: [String] = []
        var failed = false
    }

    /// Decodes `chunks` as consecutive reads, with the public path or the connection's.
    static func decode(_ chunks: [[UInt8]], inbound: Bool) -> Outcome {
        var decoder = FrameDecoder(configuration: configuration)
        var buffer = ByteBuffer()
        var outcome = Outcome()
        var given = 0
        for chunk in chunks {
            buffer.writeBytes(chunk)
            given += chunk.count
            do {
                if inbound {
                    while let part = try decoder.decodeInbound(buffer: &buffer) {
                        switch part {
                        case .json(let header, let members):
                            outcome.parts.append("json \(header.messageType) \(header.action ?? "-") \(members.args.count)")
                        case .binary(let part):
                            outcome.parts.append(describe(part))
                        }
                    }
                } else {
                    while let part = try decoder.decode(buffer: &buffer) {
                        switch part {
                        case .frame(let frame):
                            outcome.parts.append("json \(frame.header.messageType) \(frame.header.action ?? "-") \(frame.content.jsonValue?["args"]?.arrayValue?.count ?? 0)")
                        default:
                            outcome.parts.append(describe(part))
                        }
                    }
                }
            } catch {
                outcome.failed = true
                return outcome
            }
            #expect(buffer.readableBytes <= given, "decoder holds more bytes than it received")
            buffer.discardReadBytes()
        }
        return outcome
    }

    static func describe(_ part: FramePart) -> String {
        switch part {
        case .frame(let frame): "frame \(frame.header.messageType)"
        case .binaryHead(let header): "head \(header.contentLength)"
        case .binaryBody(let body): "body \(body.readableBytes)"
        case .binaryEnd: "end"
        }
    }

    @Test("10,000 damaged streams: typed errors only, both decoding paths agree, nothing kept beyond what arrived")
    func damagedStreams() throws {
        var rng = RNG(seed: 0xC1E7E5)
        let seeds = Self.seeds
        try #require(seeds.count >= 15)
        var failures = 0
        var disagreements: [String] = []
        for round in 0..<10_000 {
            let seed = seeds[round % seeds.count]
            let other = seeds.randomElement(using: &rng)!
            var input = Self.mutate(seed, other: other, using: &rng)
            if round % 5 == 0 {
                // A damaged frame between intact ones: the damage must not be skipped over.
                input = other + input + seed
            }
            let chunks = WireTestKit.randomChunks(input, sizes: 1...max(1, input.count / 2 + 1), using: &rng)
            let public_ = Self.decode(chunks, inbound: false)
            let inbound = Self.decode(chunks, inbound: true)
            if public_.failed { failures += 1 }
            // Binary bodies may be cut differently by the two paths; compare byte totals.
            if Self.normalized(public_) != Self.normalized(inbound), disagreements.count < 5 {
                disagreements.append("round \(round): \(input.prefix(160).map { String(format: "%02x", $0) }.joined()) public \(public_) inbound \(inbound)")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.joined(separator: "\n"))")
        // The mutations must reach the error paths, and leave some inputs valid.
        #expect(failures > 1000 && failures < 9900, "failures: \(failures)")
    }

    /// An outcome with consecutive binary bodies merged (reads cut them anywhere).
    static func normalized(_ outcome: Outcome) -> Outcome {
        var result = Outcome(parts: [], failed: outcome.failed)
        var body = 0
        for part in outcome.parts {
            if part.hasPrefix("body "), let n = Int(part.dropFirst(5)) {
                body += n
                continue
            }
            if body > 0 {
                result.parts.append("body \(body)")
                body = 0
            }
            result.parts.append(part)
        }
        if body > 0 { result.parts.append("body \(body)") }
        return result
    }
}
