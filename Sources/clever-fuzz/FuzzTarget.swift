#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What one run of the harness feeds its inputs to; chosen with the
/// environment variable `CLEVER_FUZZ_TARGET` (default: every target in turn).
enum FuzzTarget: String, CaseIterable, Sendable {
    /// ``FrameDecoder`` over a stream cut into reads (the first byte picks the read size).
    case frames
    /// ``JSONParser`` over one JSON text.
    case json
    /// A link's handshake (``HandshakeRun`` with the capability, identify and
    /// delivery-hello stages) fed the frames the input decodes to.
    case handshake
    /// A file push's header: ``FrameHeader`` parsing, then what the receiver
    /// reads of it (the path's lexical checks, the digest, the file-check answer).
    case fileHeader = "file-header"
    /// A discovery datagram through ``BeaconVerifier``, with and without a key.
    case beacon
    /// One JSON text decoded as a `Decodable` straight from its bytes, against
    /// the same through the parsed tree (``TypedFuzz``).
    case typed

    /// The targets selected by `CLEVER_FUZZ_TARGET`: one by name, or all when unset or empty.
    static let selected: [FuzzTarget] = {
        guard let raw = getenv("CLEVER_FUZZ_TARGET").map({ String(cString: $0) }), !raw.isEmpty else {
            return FuzzTarget.allCases
        }
        guard let target = FuzzTarget(rawValue: raw) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            let message = Array("clever-fuzz: unknown CLEVER_FUZZ_TARGET \(raw) (one of: \(names))\n".utf8)
            _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            exit(2)
        }
        return [target]
    }()
}
