import Foundation
import NIOCore

/// Writes the client's NATS operations (`CONNECT`, `PUB`, `HPUB`, `SUB`, `UNSUB`, `PING`, `PONG`).
enum NATSCommand {
    /// Checks that `subject` can go on the wire: not empty, no white space or line break.
    static func validate(subject: String, what: String = "subject") throws(NATSError) {
        guard !subject.isEmpty, !subject.utf8.contains(where: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A })
        else {
            throw .invalidArgument(reason: "\(what) \(subject.debugDescription) is empty or contains white space")
        }
    }

    /// The size on the wire of a publish's payload (headers included), as the server's `max_payload` counts it.
    static func payloadSize(payload: ByteBuffer, headerBlock: String?) -> Int {
        payload.readableBytes + (headerBlock?.utf8.count ?? 0)
    }

    /// Writes `PUB` or (with headers) `HPUB`.
    static func writePublish(
        subject: String, replyTo: String?, headerBlock: String?, payload: ByteBuffer, into buffer: inout ByteBuffer
    ) {
        let reply = replyTo.map { " " + $0 } ?? ""
        if let headerBlock {
            let headerSize = headerBlock.utf8.count
            buffer.writeString("HPUB \(subject)\(reply) \(headerSize) \(headerSize + payload.readableBytes)\r\n")
            buffer.writeString(headerBlock)
        } else {
            buffer.writeString("PUB \(subject)\(reply) \(payload.readableBytes)\r\n")
        }
        buffer.writeImmutableBuffer(payload)
        buffer.writeStaticString("\r\n")
    }

    /// Writes `SUB subject [queue] sid`.
    static func writeSubscribe(subject: String, queueGroup: String?, sid: UInt64, into buffer: inout ByteBuffer) {
        let queue = queueGroup.map { " " + $0 } ?? ""
        buffer.writeString("SUB \(subject)\(queue) \(sid)\r\n")
    }

    /// Writes `UNSUB sid [max]`.
    static func writeUnsubscribe(sid: UInt64, afterMessages: Int?, into buffer: inout ByteBuffer) {
        let max = afterMessages.map { " \($0)" } ?? ""
        buffer.writeString("UNSUB \(sid)\(max)\r\n")
    }

    /// Writes `PING`.
    static func writePing(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("PING\r\n")
    }

    /// Writes `PONG`.
    static func writePong(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("PONG\r\n")
    }

    /// Writes `CONNECT {json}`.
    static func writeConnect(_ options: ConnectOptions, into buffer: inout ByteBuffer) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(options)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        buffer.writeString("CONNECT \(json)\r\n")
    }

    /// The fields of `CONNECT`.
    struct ConnectOptions: Encodable, Hashable {
        var verbose = false
        var pedantic = false
        var tlsRequired: Bool
        var name: String?
        var lang = "swift"
        var version = "0.1.0"
        var `protocol` = 1
        var headers = true
        var noResponders = true
        var echo = true
        var authToken: String?
        var user: String?
        var pass: String?

        enum CodingKeys: String, CodingKey {
            case verbose, pedantic, name, lang, version, `protocol`, headers, echo, user, pass
            case tlsRequired = "tls_required"
            case noResponders = "no_responders"
            case authToken = "auth_token"
        }
    }
}
