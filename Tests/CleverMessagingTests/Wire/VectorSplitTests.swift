import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@testable import CleverMessaging

/// The 15 reference vectors decoded whatever way the bytes are cut.
@Suite("Reference vectors, split every way")
struct VectorSplitTests {
    /// Every vector, with the frame it must decode to.
    private static var pairs: [(Vector, Frame)] {
        Vectors.all.map { ($0, ReferenceFrames.expected(for: $0)) }
    }

    /// All vectors back to back, in file order.
    private static var concatenated: [UInt8] { Vectors.all.flatMap(\.bytes) }

    /// Reads every part the channel has produced so far.
    private static func drain(_ channel: EmbeddedChannel) throws -> [FramePart] {
        var parts: [FramePart] = []
        while let part = try channel.readInbound(as: FramePart.self) { parts.append(part) }
        return parts
    }

    /// Reads every frame the channel has produced so far.
    private static func drainFrames(_ channel: EmbeddedChannel) throws -> [Frame] {
        var frames: [Frame] = []
        while let frame = try channel.readInbound(as: Frame.self) { frames.append(frame) }
        return frames
    }

    // MARK: - ByteToMessageDecoderVerifier

    @Test("verifier: all 15 vectors (byte by byte, one by one, all at once), binary parts reassembled")
    func verifierAllVectors() throws {
        #expect(Vectors.all.count == 15)
        let io = Self.pairs.map { (ByteBuffer(bytes: $0.0.bytes), [$0.1]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: io,
            decoderFactory: { WireTestKit.AssemblingDecoder() }
        )
    }

    @Test("binary vectors decode to head, one body, end when whole")
    func binaryPartsWhole() throws {
        for vector in Vectors.all where ReferenceFrames.isBinary(vector) {
            let expected = ReferenceFrames.expected(for: vector)
            let parts = try decodeParts(vector.bytes)
            var wanted: [FramePart] = [.binaryHead(expected.header)]
            if let body = expected.content.bytes, body.readableBytes > 0 { wanted.append(.binaryBody(body)) }
            wanted.append(.binaryEnd)
            #expect(parts == wanted, "vector \(vector.name)")
        }
    }

    // MARK: - ByteToMessageHandler in an EmbeddedChannel

    @Test("EmbeddedChannel: all 15 vectors in one buffer")
    func channelOneBuffer() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        try channel.writeInbound(ByteBuffer(bytes: Self.concatenated))
        let parts = try Self.drain(channel)

        // Exact part sequence: all bytes are there, so each binary body comes in one chunk.
        var wanted: [FramePart] = []
        for (_, frame) in Self.pairs {
            switch frame.content {
            case .json: wanted.append(.frame(frame))
            case .binary(let body):
                wanted.append(.binaryHead(frame.header))
                if body.readableBytes > 0 { wanted.append(.binaryBody(body)) }
                wanted.append(.binaryEnd)
            }
        }
        #expect(parts == wanted)

        var assembler = WireTestKit.PartAssembler()
        #expect(try assembler.absorb(parts) == Self.pairs.map(\.1))
        #expect(try channel.finish().isClean)
    }

    @Test("EmbeddedChannel: all 15 vectors, ten times over in shuffled order, in one buffer")
    func channelShuffledRepeats() throws {
        var rng = WireTestKit.SeededRNG(seed: 0xC1E7E4)
        var order: [(Vector, Frame)] = []
        for _ in 0..<10 { order += Self.pairs.shuffled(using: &rng) }
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(WireTestKit.AssemblingDecoder()))
        try channel.writeInbound(ByteBuffer(bytes: order.flatMap(\.0.bytes)))
        #expect(try Self.drainFrames(channel) == order.map(\.1))
        #expect(try channel.finish().isClean)
    }

    @Test(
        "EmbeddedChannel: all 15 vectors in seeded random chunks",
        arguments: [
            (seed: UInt64(1), sizes: 1...8),
            (seed: 2, sizes: 1...32),
            (seed: 3, sizes: 1...64),
            (seed: 4, sizes: 1...200),
            (seed: 5, sizes: 100...700),
            (seed: 6, sizes: 1...3),
            (seed: 7, sizes: 150...160),
            (seed: 8, sizes: 1...2500),
        ]
    )
    func channelRandomChunks(seed: UInt64, sizes: ClosedRange<Int>) throws {
        var rng = WireTestKit.SeededRNG(seed: seed)
        let chunks = WireTestKit.randomChunks(Self.concatenated, sizes: sizes, using: &rng)
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        var assembler = WireTestKit.PartAssembler()
        var frames: [Frame] = []
        for chunk in chunks {
            try channel.writeInbound(ByteBuffer(bytes: chunk))
            frames += try assembler.absorb(try Self.drain(channel))
        }
        #expect(frames == Self.pairs.map(\.1), "seed \(seed), \(chunks.count) chunks")
        #expect(!assembler.isInsideBinaryFrame)
        #expect(try channel.finish().isClean)
    }

    @Test("EmbeddedChannel: the same frames whatever the chunking (50 seeds)")
    func channelManySeeds() throws {
        let expected = Self.pairs.map(\.1)
        for seed in UInt64(100)..<150 {
            var rng = WireTestKit.SeededRNG(seed: seed)
            let upper = Int.random(in: 1...300, using: &rng)
            let chunks = WireTestKit.randomChunks(Self.concatenated, sizes: 1...upper, using: &rng)
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
            var assembler = WireTestKit.PartAssembler()
            var frames: [Frame] = []
            for chunk in chunks {
                try channel.writeInbound(ByteBuffer(bytes: chunk))
                frames += try assembler.absorb(try Self.drain(channel))
            }
            #expect(frames == expected, "seed \(seed)")
            #expect(try channel.finish().isClean, "seed \(seed)")
        }
    }

    /// A frame whose last byte has arrived must be delivered at once: a peer
    /// that sends a file and then waits for an answer must not wait forever.
    @Test("EmbeddedChannel: each frame is complete as soon as its last byte arrives")
    func channelNoStall() throws {
        // Cut exactly at every frame boundary, and at random points in between.
        var boundaries: [Int] = []
        var offset = 0
        for vector in Vectors.all {
            offset += vector.bytes.count
            boundaries.append(offset)
        }
        var rng = WireTestKit.SeededRNG(seed: 42)
        var cuts = Set(boundaries)
        for _ in 0..<40 { cuts.insert(Int.random(in: 1..<offset, using: &rng)) }
        let sortedCuts = cuts.sorted()

        let bytes = Self.concatenated
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        var assembler = WireTestKit.PartAssembler()
        var frames: [Frame] = []
        var start = 0
        for cut in sortedCuts {
            try channel.writeInbound(ByteBuffer(bytes: bytes[start..<cut]))
            start = cut
            frames += try assembler.absorb(try Self.drain(channel))
            let complete = boundaries.filter { $0 <= cut }.count
            #expect(
                frames.count == complete,
                "after \(cut) bytes: \(frames.count) frames delivered, \(complete) complete on the wire"
            )
        }
        #expect(frames == Self.pairs.map(\.1))
        _ = try channel.finish()
    }

    @Test(
        "EmbeddedChannel: a binary vector alone in one read is delivered whole",
        arguments: ["response_file", "file_push", "file_push_empty"]
    )
    func channelLoneBinaryFrame(name: String) throws {
        let vector = Vectors.named(name)
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        try channel.writeInbound(ByteBuffer(bytes: vector.bytes))
        let parts = try Self.drain(channel)
        #expect(parts.first == .binaryHead(ReferenceFrames.expected(for: vector).header))
        #expect(parts.last == .binaryEnd, "binaryEnd of \(name) not delivered until more bytes arrive; got \(parts)")
        _ = try channel.finish()
    }

    @Test("EmbeddedChannel: bare FrameDecoder fed byte by byte, frames in order")
    func channelByteByByte() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        var assembler = WireTestKit.PartAssembler()
        var frames: [Frame] = []
        for byte in Self.concatenated {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            frames += try assembler.absorb(try Self.drain(channel))
        }
        #expect(frames == Self.pairs.map(\.1))
        #expect(!assembler.isInsideBinaryFrame)
        #expect(try channel.finish().isClean)
    }
}
