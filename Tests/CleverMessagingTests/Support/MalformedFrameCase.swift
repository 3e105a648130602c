import NIOCore
import NIOEmbedded
import Testing

@testable import CleverMessaging

/// One malformed byte stream and the exact error the decoder must throw.
struct MalformedFrameCase: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var expected: FrameDecodingError
    var configuration = FrameCodecConfiguration()
    /// When `false` the stream is *not* ended: the error must come from the
    /// bytes alone (a limit checked before the body arrives), without `decodeLast`.
    var endOfStream = true

    var testDescription: String { name }
}
