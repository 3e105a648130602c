import CleverMessaging
import NIOCore

/// Feeds one input to the decoders of the wire format, the way hostile peers
/// would (see ``FuzzTarget`` for what each target covers).
///
/// Any outcome is fine except a crash, a hang or unbounded memory: decoding
/// either yields parts or throws a typed error, and the harness checks that
/// the bytes a decoder keeps never exceed what it was given.
enum FuzzHarness {
    /// The codec limits used: small enough that the limits themselves are reached.
    static let configuration = FrameCodecConfiguration(
        maximumHeaderLength: 4096,
        maximumJSONContentLength: 64 * 1024,
        maximumBinaryContentLength: 1 << 20,
        json: JSONParsingLimits(maximumDepth: 64)
    )

    /// Runs one input through the selected targets.
    static func run(_ input: UnsafeRawBufferPointer) {
        for target in FuzzTarget.selected {
            run(input, target: target)
        }
    }

    /// Runs one input through `target`.
    static func run(_ input: UnsafeRawBufferPointer, target: FuzzTarget) {
        switch target {
        case .frames:
            guard let first = input.first else { return }
            decodeStream(UnsafeRawBufferPointer(rebasing: input[1...]), readSize: Int(first) * 3 + 1)
        case .json:
            _ = try? JSONParser.parse(input, limits: configuration.json)
        case .handshake:
            HandshakeFuzz.run(input)
        case .fileHeader:
            FileHeaderFuzz.run(input)
        case .beacon:
            BeaconFuzz.run(input)
        case .typed:
            TypedFuzz.run(input)
        }
    }

    /// Decodes `stream` as it would arrive in reads of `readSize` bytes.
    static func decodeStream(_ stream: UnsafeRawBufferPointer, readSize: Int) {
        var decoder = FrameDecoder(configuration: configuration)
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        var offset = 0
        while offset < stream.count {
            let end = min(offset + readSize, stream.count)
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: stream[offset..<end]))
            offset = end
            do {
                while try decoder.decode(buffer: &buffer) != nil {}
            } catch {
                return  // a typed error: the link would be closed here
            }
            // What the decoder keeps waiting for more is part of what it was given.
            precondition(buffer.readableBytes <= offset, "decoder holds more bytes than it received")
            buffer.discardReadBytes()
        }
        while (try? decoder.decodeLast(buffer: &buffer, seenEOF: true)) != nil {}
    }
}
