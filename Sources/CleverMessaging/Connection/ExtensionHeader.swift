/// Header keys of this library's extensions. Reference peers ignore unknown
/// header keys (PROTOCOL.md section 1), so these never break them.
package enum ExtensionHeader {
    /// On every frame this library sends (unless extensions are turned off):
    /// the sender speaks this library's extensions. A request carrying it may be
    /// answered with an error reply `{"value": null, "error": {"code": ..., "message": ...}}`;
    /// a file push carrying it with ``acknowledgement`` is acknowledged. Extension
    /// frames are only ever sent to a peer that has shown this key.
    package static let capabilities = "x-clever"
    /// On a file push: the id under which the receiver acknowledges it, with a
    /// response `requested_value: "filetransfer"`, value `true` or an error.
    package static let acknowledgement = "x-clever-ack"
    /// The requested value of the application ping, answered `true` by peers
    /// of this library; only sent to a peer that showed ``capabilities``.
    package static let ping = "x-clever-ping"
    /// The requested value of the check a pusher makes before a file's body
    /// (``FileDestinationCheck``), answered from the receiver's file policy by
    /// peers of this library; only sent to a peer that showed ``capabilities``.
    package static let fileCheck = "x-clever-file-check"
    /// On a binary frame: the SHA-256 of the content, lowercase hex. The
    /// receiver verifies it before the file replaces its destination.
    package static let sha256 = "sha256"
    /// On a binary frame, in place of ``sha256`` (value `true`): the SHA-256 of
    /// the content follows it as the very next frame on the link, an action
    /// message named `x-clever-sha256-trailer` whose header carries ``sha256``.
    /// The sender then hashes the file while it sends it, in one pass. Only sent
    /// to a peer that showed ``capabilities``; a receiver that gets no trailer
    /// keeps nothing. (The trailer frame's action has the same name as this key.)
    package static let sha256Trailer = "x-clever-sha256-trailer"
    /// On a binary frame with ``sha256Trailer``: the name of the check whose
    /// digest the trailer carries (``FileChecksum``), agreed before the body
    /// (``FileChecksumAgreement``); the trailer then carries the digest under
    /// that name. Absent: SHA-256, under ``sha256``.
    package static let checksum = "x-clever-checksum"
    /// On an action message to a peer that agreed to acknowledged delivery
    /// (``sessionHello``): the action's sequence number (1, 2, 3... per
    /// direction and session). The receiver runs each number once.
    package static let sequence = "x-clever-seq"
    /// On a sequenced action, or on an action message of this name with no
    /// arguments (sent when no action carries it within the acknowledgement
    /// interval): the sender's cumulative acknowledgement, the highest sequence
    /// number it received.
    package static let acknowledged = "x-clever-acked"
    /// The requested value of the delivery hello a client of this library sends
    /// in its handshake to a peer that showed ``capabilities``: kwargs
    /// `{"session": <id>, "acked": <n>}`; a peer of this library answers
    /// `{"value": {"acked": <n>}}` and both sides then sequence their actions.
    package static let sessionHello = "x-clever-session"
    /// The requested value of the clock exchange a station makes with a peer
    /// that showed ``capabilities``: answered `[t2, t3]`, the answering side's
    /// clock (``Connection/clockTime``, Unix seconds) as the request was taken
    /// up and as the answer left (``ClockSample``).
    package static let time = "x-clever-time"
    /// The requested value of a timed start sent to a peer that showed
    /// ``capabilities``: kwargs ``TimedStartRequest``; answered `true` once the
    /// action's handler is scheduled at that instant of the peer's clock.
    package static let start = "x-clever-start"
}
