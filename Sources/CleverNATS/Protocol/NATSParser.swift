import Foundation
import NIOCore

/// Reads NATS server operations from bytes: a pure parser, no I/O.
///
/// Every limit is checked before anything is buffered: a line longer than
/// ``NATSParserLimits/maximumLineLength`` fails as soon as that many bytes
/// arrived without a line break, and a `MSG`/`HMSG` size beyond the payload
/// limit fails on its line, before any payload byte. An `INFO` sets the
/// payload limit to the server's `max_payload` (at most the ceiling).
struct NATSParser {
    /// The limits in force; ``NATSParserLimits/maximumPayload`` follows `INFO`.
    private(set) var limits: NATSParserLimits
    private var state = State.line

    private enum State {
        case line
        case payload(PendingMessage)
    }

    private struct PendingMessage {
        var subject: String
        var sid: UInt64
        var replyTo: String?
        var headerBytes: Int?
        var totalBytes: Int
    }

    private enum LineResult {
        case operation(NATSServerOperation)
        case message(PendingMessage)
    }

    init(limits: NATSParserLimits = NATSParserLimits()) {
        self.limits = limits
    }

    /// Whether the parser holds a partly read message (its line was read, its payload not yet).
    var isWaitingForPayload: Bool {
        if case .payload = state { return true }
        return false
    }

    /// The next operation in `buffer`, consuming its bytes; nil when more bytes are needed.
    /// - Throws: ``NATSError`` for bytes that are not the protocol or pass a limit.
    mutating func next(_ buffer: inout ByteBuffer) throws(NATSError) -> NATSServerOperation? {
        if case .line = state {
            guard let line = try readLine(&buffer) else { return nil }
            switch try parse(line: line) {
            case .operation(let operation):
                if case .info(let info) = operation, info.maxPayload > 0 {
                    limits.maximumPayload = min(info.maxPayload, limits.payloadCeiling)
                }
                return operation
            case .message(let pending):
                state = .payload(pending)
            }
        }
        guard case .payload(let pending) = state else { return nil }
        return try readPayload(pending, from: &buffer)
    }

    private mutating func readLine(_ buffer: inout ByteBuffer) throws(NATSError) -> String? {
        let view = buffer.readableBytesView
        let searched = view.prefix(limits.maximumLineLength + 2)
        guard let newline = searched.firstIndex(of: UInt8(ascii: "\n")) else {
            if view.count >= limits.maximumLineLength + 2 {
                throw .lineTooLong(limit: limits.maximumLineLength)
            }
            return nil
        }
        let length = newline - view.startIndex
        guard length >= 1, view[newline - 1] == UInt8(ascii: "\r") else {
            throw .protocolViolation(reason: "line break without carriage return at byte \(length)")
        }
        guard length - 1 <= limits.maximumLineLength else {
            throw .lineTooLong(limit: limits.maximumLineLength)
        }
        let line = buffer.readString(length: length - 1) ?? ""
        buffer.moveReaderIndex(forwardBy: 2)
        return line
    }

    private func parse(line: String) throws(NATSError) -> LineResult {
        let verbEnd = line.firstIndex { $0 == " " || $0 == "\t" } ?? line.endIndex
        let verb = line[..<verbEnd].uppercased()
        let rest = line[verbEnd...].drop { $0 == " " || $0 == "\t" }
        switch verb {
        case "MSG":
            return .message(try parseMessage(rest, headers: false))
        case "HMSG":
            return .message(try parseMessage(rest, headers: true))
        case "PING":
            try expectNoArguments(rest, verb: verb)
            return .operation(.ping)
        case "PONG":
            try expectNoArguments(rest, verb: verb)
            return .operation(.pong)
        case "+OK":
            try expectNoArguments(rest, verb: verb)
            return .operation(.ok)
        case "-ERR":
            var text = rest.trimmingCharacters(in: .whitespaces)[...]
            if text.hasPrefix("'") { text = text.dropFirst() }
            if text.hasSuffix("'") { text = text.dropLast() }
            return .operation(.error(String(text)))
        case "INFO":
            do {
                let info = try JSONDecoder().decode(NATSServerInfo.self, from: Data(rest.utf8))
                return .operation(.info(info))
            } catch {
                throw .protocolViolation(reason: "INFO is not valid JSON")
            }
        case "":
            throw .protocolViolation(reason: "empty line")
        default:
            throw .protocolViolation(reason: "unknown operation \(verb.prefix(16).debugDescription)")
        }
    }

    private func expectNoArguments(_ rest: Substring, verb: String) throws(NATSError) {
        guard rest.allSatisfy({ $0 == " " || $0 == "\t" }) else {
            throw .protocolViolation(reason: "\(verb) takes no arguments")
        }
    }

    private func parseMessage(_ rest: Substring, headers: Bool) throws(NATSError) -> PendingMessage {
        let verb = headers ? "HMSG" : "MSG"
        let fields = rest.split(whereSeparator: { $0 == " " || $0 == "\t" })
        let sizes = headers ? 2 : 1
        guard fields.count == 2 + sizes || fields.count == 3 + sizes else {
            throw .protocolViolation(reason: "\(verb) has \(fields.count) arguments")
        }
        guard let sid = UInt64(fields[1]) else {
            throw .protocolViolation(reason: "\(verb) subscription id is not a number")
        }
        let total = try size(fields[fields.count - 1], verb: verb)
        var headerBytes: Int?
        if headers {
            let size = try size(fields[fields.count - 2], verb: verb)
            guard size <= total, size >= 0 else {
                throw .protocolViolation(reason: "HMSG header size \(size) passes its total size \(total)")
            }
            headerBytes = size
        }
        guard total <= limits.maximumPayload else {
            throw .payloadTooLarge(size: total, limit: limits.maximumPayload)
        }
        let replyTo = fields.count == 3 + sizes ? String(fields[2]) : nil
        return PendingMessage(
            subject: String(fields[0]), sid: sid, replyTo: replyTo, headerBytes: headerBytes, totalBytes: total)
    }

    private func size(_ text: Substring, verb: String) throws(NATSError) -> Int {
        guard text.count <= 18, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text) else {
            if text.allSatisfy({ $0.isASCII && $0.isNumber }) {
                throw .payloadTooLarge(size: Int.max, limit: limits.maximumPayload)
            }
            throw .protocolViolation(reason: "\(verb) size \(text.prefix(20).debugDescription) is not a number")
        }
        return value
    }

    private mutating func readPayload(
        _ pending: PendingMessage, from buffer: inout ByteBuffer
    ) throws(NATSError) -> NATSServerOperation? {
        guard buffer.readableBytes >= pending.totalBytes + 2 else { return nil }
        let trailerIndex = buffer.readerIndex + pending.totalBytes
        guard buffer.getInteger(at: trailerIndex, as: UInt16.self) == 0x0D0A else {
            throw .protocolViolation(reason: "payload of \(pending.totalBytes) bytes is not followed by CRLF")
        }
        var headers: NATSHeaders?
        if let headerBytes = pending.headerBytes {
            let block = buffer.readBytes(length: headerBytes) ?? []
            headers = try NATSHeaders.parse(block)
        }
        let payload = buffer.readSlice(length: pending.totalBytes - (pending.headerBytes ?? 0)) ?? ByteBuffer()
        buffer.moveReaderIndex(forwardBy: 2)
        state = .line
        let message = NATSMessage(subject: pending.subject, replyTo: pending.replyTo, headers: headers, payload: payload)
        return .message(sid: pending.sid, message)
    }
}
