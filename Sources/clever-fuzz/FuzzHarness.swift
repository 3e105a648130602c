import CleverMessaging
import NIOCore

/// Feeds one input to every decoder of the wire format, the way hostile
/// peers would: as a byte stream cut into reads (``FrameDecoder``, then the
/// end of the stream), as one JSON text (``JSONParser``) and as one frame
/// header (``FrameHeader``).
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

    /// Runs one input. The first byte picks the size of the reads the rest is cut into.
    static func run(_ input: UnsafeRawBufferPointer) {
        guard let first = input.first else { return }
        let stream = UnsafeRawBufferPointer(rebasing: input[1...])
        decodeStream(stream, readSize: Int(first) * 3 + 1)
        _ = try? JSONParser.parse(stream, limits: configuration.json)
        _ = try? FrameHeader.parse(stream, limits: configuration.json)
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
