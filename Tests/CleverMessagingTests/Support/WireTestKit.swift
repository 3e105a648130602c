import CleverTestSupport
import NIOCore
import Testing

@testable import CleverMessaging

/// Helpers shared by the wire-level suites (splits, round trips, interop, malformed input).
enum WireTestKit {
    // MARK: - Reassembling binary parts

    /// A violation of the ``FramePart`` sequence contract documented on ``FrameDecoder``.
    struct PartSequenceViolation: Error, CustomStringConvertible {
        var description: String
    }

    /// Turns a stream of ``FramePart``s into whole ``Frame``s, checking that the
    /// parts follow the documented order (head, non-empty bodies, end) and that
    /// the body adds up to the header's `content-length`.
    struct PartAssembler {
        private var head: FrameHeader?
        private var body = ByteBuffer()

        /// Whether a binary frame has begun and not yet ended.
        var isInsideBinaryFrame: Bool { head != nil }

        /// Feeds one part; returns the frame it completes, if any.
        mutating func absorb(_ part: FramePart) throws -> Frame? {
            switch part {
            case .frame(let frame):
                guard head == nil else { throw PartSequenceViolation(description: "JSON frame inside a binary frame") }
                guard frame.content.jsonValue != nil else {
                    throw PartSequenceViolation(description: ".frame with binary content")
                }
                return frame
            case .binaryHead(let header):
                guard head == nil else { throw PartSequenceViolation(description: "binaryHead inside a binary frame") }
                guard !header.contentType.isJSON else {
                    throw PartSequenceViolation(description: "binaryHead for a JSON frame")
                }
                head = header
                body.clear()
                return nil
            case .binaryBody(var chunk):
                guard let header = head else { throw PartSequenceViolation(description: "binaryBody without binaryHead") }
                guard chunk.readableBytes > 0 else { throw PartSequenceViolation(description: "empty binaryBody") }
                guard body.readableBytes + chunk.readableBytes <= header.contentLength else {
                    throw PartSequenceViolation(description: "binary body longer than content-length")
                }
                body.writeBuffer(&chunk)
                return nil
            case .binaryEnd:
                guard let header = head else { throw PartSequenceViolation(description: "binaryEnd without binaryHead") }
                guard body.readableBytes == header.contentLength else {
                    throw PartSequenceViolation(
                        description: "binaryEnd after \(body.readableBytes) of \(header.contentLength) bytes"
                    )
                }
                head = nil
                let frame = Frame(header: header, content: .binary(body))
                body = ByteBuffer()
                return frame
            }
        }

        /// Feeds many parts; returns the frames they complete.
        mutating func absorb(_ parts: [FramePart]) throws -> [Frame] {
            try parts.compactMap { try absorb($0) }
        }
    }

    /// ``FrameDecoder`` wrapped so that it emits one ``Frame`` per frame, binary
    /// ones included (their parts reassembled), whatever the chunking of the
    /// input. Lets `ByteToMessageDecoderVerifier` compare outputs.
    struct AssemblingDecoder: NIOSingleStepByteToMessageDecoder {
        typealias InboundOut = Frame

        private var inner: FrameDecoder
        private var assembler = PartAssembler()

        init(configuration: FrameCodecConfiguration = .init()) {
            inner = FrameDecoder(configuration: configuration)
        }

        mutating func decode(buffer: inout ByteBuffer) throws -> Frame? {
            while let part = try inner.decode(buffer: &buffer) {
                if let frame = try assembler.absorb(part) { return frame }
            }
            return nil
        }

        mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Frame? {
            while let part = try inner.decodeLast(buffer: &buffer, seenEOF: seenEOF) {
                if let frame = try assembler.absorb(part) { return frame }
            }
            return nil
        }
    }

    // MARK: - Encoding and decoding whole byte strings

    /// The bytes ``FrameEncoder`` writes for `frame`.
    static func encode(_ frame: Frame) throws -> [UInt8] {
        let encoder = FrameEncoder()
        var out = ByteBuffer()
        try encoder.encode(data: frame, out: &out)
        return Array(out.readableBytesView)
    }

    /// The bytes ``FrameEncoder`` writes for `frames`, one after the other.
    static func encode(_ frames: [Frame]) throws -> [UInt8] {
        let encoder = FrameEncoder()
        var out = ByteBuffer()
        for frame in frames { try encoder.encode(data: frame, out: &out) }
        return Array(out.readableBytesView)
    }

    /// All frames in `bytes`, decoded by one ``FrameDecoder`` and reassembled;
    /// the stream must end between frames.
    static func decodeFrames(_ bytes: [UInt8], configuration: FrameCodecConfiguration = .init()) throws -> [Frame] {
        var decoder = FrameDecoder(configuration: configuration)
        var assembler = PartAssembler()
        var buffer = ByteBuffer(bytes: bytes)
        var frames: [Frame] = []
        while let part = try decoder.decode(buffer: &buffer) {
            if let frame = try assembler.absorb(part) { frames.append(frame) }
        }
        while let part = try decoder.decodeLast(buffer: &buffer, seenEOF: true) {
            if let frame = try assembler.absorb(part) { frames.append(frame) }
        }
        return frames
    }

    /// The single frame in `bytes`.
    static func decodeSingleFrame(_ bytes: [UInt8], configuration: FrameCodecConfiguration = .init()) throws -> Frame {
        let frames = try decodeFrames(bytes, configuration: configuration)
        guard frames.count == 1 else {
            throw PartSequenceViolation(description: "expected exactly one frame, got \(frames.count)")
        }
        return frames[0]
    }

    /// `frame` as a decoder reports it: `content-length` set from the content as
    /// the encoder writes it.
    static func normalized(_ frame: Frame) -> Frame {
        var copy = frame
        switch frame.content {
        case .json(let value): copy.header.contentLength = JSONWriter.bytes(of: value).count
        case .binary(let bytes): copy.header.contentLength = bytes.readableBytes
        }
        return copy
    }

    // MARK: - Building raw frames

    /// A frame on the wire: 2-byte big-endian length, header bytes, content bytes.
    static func rawFrame(header: [UInt8], content: [UInt8] = []) -> [UInt8] {
        precondition(header.count <= 0xFFFF)
        return [UInt8(header.count >> 8), UInt8(header.count & 0xFF)] + header + content
    }

    /// A frame on the wire with a textual header.
    static func rawFrame(header: String, content: [UInt8] = []) -> [UInt8] {
        rawFrame(header: Array(header.utf8), content: content)
    }

    /// The five required header members as raw JSON text, in the reference's order.
    static func requiredMembers(
        contentType: String = "json",
        contentLength: Int
    ) -> [(key: String, json: String)] {
        [
            ("byteorder", "\"little\""),
            ("content-type", "\"\(contentType)\""),
            ("content-encoding", "\"utf-8\""),
            ("content-length", "\(contentLength)"),
            ("message-type", "\"message\""),
        ]
    }

    /// A header object made of raw JSON members (`"key": json`, joined by `", "`).
    static func headerText(_ members: [(key: String, json: String)]) -> String {
        "{" + members.map { "\"\($0.key)\": \($0.json)" }.joined(separator: ", ") + "}"
    }

    /// A header made of the required members with `key` given the raw JSON `json`
    /// (or removed when `json` is `nil`), plus `extra` members.
    static func headerText(
        contentType: String = "json",
        contentLength: Int,
        replacing key: String? = nil,
        with json: String? = nil,
        extra: [(key: String, json: String)] = []
    ) -> String {
        var members = requiredMembers(contentType: contentType, contentLength: contentLength)
        if let key {
            if let index = members.firstIndex(where: { $0.key == key }) {
                if let json { members[index].json = json } else { members.remove(at: index) }
            } else if let json {
                members.append((key, json))
            }
        }
        return headerText(members + extra)
    }

    /// A JSON frame on the wire whose content is the raw bytes `content`.
    static func rawJSONFrame(_ content: [UInt8], extra: [(key: String, json: String)] = []) -> [UInt8] {
        rawFrame(header: headerText(contentLength: content.count, extra: extra), content: content)
    }

    /// A JSON frame on the wire whose content is the text `content`.
    static func rawJSONFrame(_ content: String) -> [UInt8] {
        rawJSONFrame(Array(content.utf8))
    }

    // MARK: - Deterministic randomness

    /// SplitMix64, seeded (CleverTestSupport's).
    typealias SeededRNG = CleverTestSupport.SeededRNG

    /// `bytes` cut into consecutive chunks of random sizes in `sizes`.
    static func randomChunks(
        _ bytes: [UInt8],
        sizes: ClosedRange<Int>,
        using rng: inout SeededRNG
    ) -> [[UInt8]] {
        var chunks: [[UInt8]] = []
        var start = 0
        while start < bytes.count {
            let size = min(Int.random(in: sizes, using: &rng), bytes.count - start)
            chunks.append(Array(bytes[start..<(start + size)]))
            start += size
        }
        return chunks
    }
}
