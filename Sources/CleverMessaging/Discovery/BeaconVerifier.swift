import NIOCore

/// Reads a discovery datagram and, with a ``DiscoveryKey``, checks its
/// signature and age: a pure value, with the time an argument.
///
/// ## The signed beacon
///
/// A signed beacon is the reference's `server_ip` frame, byte for byte in its
/// content, with two more header keys after the reference's:
///
/// * `x-clever-beacon-time`: when it was signed, integer milliseconds since the Unix epoch;
/// * `x-clever-beacon-mac`: lowercase hex of the HMAC-SHA256, under the key, of
///   `"clever-beacon-v1" 0x00 "server_ip" 0x00 <time in decimal> 0x00 <the content bytes as sent>`.
///
/// The reference's listener reads the header's `action` and the content's
/// `kwargs`, and ignores header keys it does not know (PROTOCOL.md section 1),
/// so it follows a signed beacon as it follows an unsigned one. The two keys
/// add 130 bytes, well inside the 1,024 bytes the reference reads of a
/// datagram.
///
/// ## Verification
///
/// Without a key, any well-formed beacon is accepted (signed or not), as the
/// reference does. With a key, a beacon is accepted only when its signature is
/// the key's (compared in constant time) and it was signed within
/// ``replayWindow`` of `now`, either way. Within the window a captured beacon
/// can be replayed; it then announces what its server announced, a few seconds
/// late, as a repeated beacon does.
public struct BeaconVerifier: Sendable, Hashable {
    /// The header key of the signing time: `"x-clever-beacon-time"`.
    public static let timeKey = "x-clever-beacon-time"
    /// The header key of the signature: `"x-clever-beacon-mac"`.
    public static let signatureKey = "x-clever-beacon-mac"
    /// What the signed message begins with (the format's version).
    static let domain = Array("clever-beacon-v1".utf8)

    /// The key beacons must be signed with; `nil` accepts any well-formed beacon.
    public var key: DiscoveryKey?
    /// How far the signing time may be from now, into the past or the future. Default 10 s.
    public var replayWindow: Duration
    /// The frame decoder's limits.
    public var codec: FrameCodecConfiguration

    /// Creates a verifier.
    /// - Parameters:
    ///   - key: the key beacons must be signed with (default: none, any beacon is accepted).
    ///   - replayWindow: how far the signing time may be from now, either way (default 10 s).
    ///   - codec: the frame decoder's limits.
    public init(key: DiscoveryKey? = nil, replayWindow: Duration = .seconds(10), codec: FrameCodecConfiguration = .init()) {
        self.key = key
        self.replayWindow = replayWindow
        self.codec = codec
    }

    /// Reads one datagram.
    /// - Parameters:
    ///   - datagram: the datagram's bytes: one frame (bytes after it are ignored).
    ///   - now: the current time, seconds since the Unix epoch.
    /// - Returns: the announcement, or why it is ignored.
    public func verify(_ datagram: ByteBuffer, now: Double) -> Result<ServerAnnouncement, BeaconRejection> {
        var buffer = datagram
        var decoder = FrameDecoder(configuration: codec)
        let frame: Frame
        do {
            guard case .frame(let decoded)? = try decoder.decode(buffer: &buffer) else {
                return .failure(.malformed(reason: "not one whole JSON frame"))
            }
            frame = decoded
        } catch {
            return .failure(.malformed(reason: "\(error)"))
        }
        guard let announcement = ServerAnnouncement(frame: frame) else {
            return .failure(.malformed(reason: "not a valid server_ip action"))
        }
        guard let key else { return .success(announcement) }

        let header = frame.header
        guard let signature = header.extra[Self.signatureKey] else { return .failure(.unsigned) }
        guard case .string(let hex) = signature, let code = Hex.decode(hex), code.count == 32,
            case .integer(let signedAt)? = header.extra[Self.timeKey]
        else { return .failure(.badSignature) }
        // The content is the last content-length bytes of the frame just decoded.
        let end = buffer.readerIndex
        let length = header.contentLength
        guard length >= 0, end - length >= datagram.readerIndex,
            let content = datagram.getBytes(at: end - length, length: length)
        else { return .failure(.malformed(reason: "content out of the datagram")) }
        guard key.isValid(code, for: Self.message(signedAt: signedAt, content: content)) else {
            return .failure(.badSignature)
        }

        let (age, overflow) = Self.milliseconds(now).subtractingReportingOverflow(signedAt)
        let window = Self.milliseconds(replayWindow)
        if overflow { return .failure(signedAt > 0 ? .fromTheFuture : .expired) }
        if age > window { return .failure(.expired) }
        if age < -window { return .failure(.fromTheFuture) }
        return .success(announcement)
    }

    /// The signed datagram of `announcement`: the reference's `server_ip` frame
    /// with ``timeKey`` and ``signatureKey`` added to its header.
    /// - Parameters:
    ///   - announcement: what to announce.
    ///   - key: the key to sign with.
    ///   - time: the signing time, seconds since the Unix epoch.
    /// - Returns: the datagram's bytes.
    /// - Throws: ``MessagingError/encoding(_:)`` when the frame cannot be written.
    public static func signedDatagram(
        _ announcement: ServerAnnouncement,
        key: DiscoveryKey,
        at time: Double
    ) throws(MessagingError) -> ByteBuffer {
        var frame = announcement.frame
        guard case .json(let value) = frame.content else { preconditionFailure("an announcement is a JSON frame") }
        let signedAt = milliseconds(time)
        let code = key.authenticationCode(for: message(signedAt: signedAt, content: JSONWriter.bytes(of: value)))
        frame.header.extra[timeKey] = .integer(signedAt)
        frame.header.extra[signatureKey] = .string(Hex.encode(code))
        var bytes = ByteBuffer()
        var writer = FrameWriter()
        do throws(FrameEncodingError) {
            try writer.write(frame, into: &bytes)
        } catch {
            throw .encoding(error)
        }
        return bytes
    }

    /// The bytes the MAC covers.
    static func message(signedAt: Int, content: [UInt8]) -> [UInt8] {
        var message = domain
        message.append(0)
        message += Array(ServerAnnouncement.action.utf8)
        message.append(0)
        message += Array(String(signedAt).utf8)
        message.append(0)
        message += content
        return message
    }

    /// Seconds as whole milliseconds, clamped to ±2^53 (NaN is 0).
    static func milliseconds(_ seconds: Double) -> Int {
        let limit = 9_007_199_254_740_992.0
        let ms = (seconds * 1000).rounded()
        guard !ms.isNaN else { return 0 }
        return Int(min(max(ms, -limit), limit))
    }

    /// A duration as whole milliseconds (clamped, never negative).
    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        guard seconds < 1 << 40 else { return 1 << 50 }
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
