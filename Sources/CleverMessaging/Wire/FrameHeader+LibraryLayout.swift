#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import OrderedCollections

extension FrameHeader {
    /// Reads a header laid out byte for byte as this library writes the
    /// header of an action (with or without the keys of acknowledged
    /// delivery), a request or a value response on a little-endian host
    /// (`FrameWriter`'s frames made from parts, with or without the extension
    /// marker), or returns `nil` for any other text, which the general parser
    /// then reads.
    ///
    /// It only accepts what the general parser reads to the same header:
    /// a `content-length` of at most 15 digits without a leading zero, and
    /// strings of printable ASCII without escapes.
    /// - Parameters:
    ///   - bytes: the header's JSON text.
    ///   - limits: JSON limits (a depth limit below 1 or an integer digit
    ///     limit below the length's digits leaves it to the general parser,
    ///     which reports it).
    /// - Returns: the header, or `nil`.
    static func parseLibraryLayout(_ bytes: UnsafeRawBufferPointer, limits: JSONParsingLimits) -> FrameHeader? {
        guard limits.maximumDepth >= 1, let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        var cursor = LayoutCursor(base: base, count: bytes.count)
        guard cursor.skip(JSONParser.canonicalHeaderStart) else { return nil }
        guard let contentLength = cursor.length(maximumDigits: min(15, limits.maximumIntegerDigits)) else { return nil }
        let messageType: MessageType
        var action: String?
        var requestedValue: String?
        var requestID: JSONValue?
        // The keys of acknowledged delivery, in the order `FrameWriter` writes them, typed.
        var sequence: UInt64?
        var acknowledged: UInt64?
        if cursor.skip(#", "message-type": "message", "action": "#) {
            guard let name = cursor.asciiString() else { return nil }
            messageType = .message
            action = name
            let digits = min(15, limits.maximumIntegerDigits)
            if cursor.skip(#", "x-clever-seq": "#) {
                guard let number = cursor.length(maximumDigits: digits) else { return nil }
                sequence = UInt64(number)
            }
            if cursor.skip(#", "x-clever-acked": "#) {
                guard let number = cursor.length(maximumDigits: digits) else { return nil }
                acknowledged = UInt64(number)
            }
        } else if cursor.skip(#", "message-type": "request""#) {
            messageType = .request
        } else if cursor.skip(#", "message-type": "response", "requested_value": "#) {
            guard let value = cursor.asciiString(), cursor.skip(#", "request_id": "#), let id = cursor.asciiString() else {
                return nil
            }
            messageType = .response
            requestedValue = value
            requestID = .string(id)
        } else {
            return nil
        }
        // `ExtensionHeader.capabilities` with the value 1, as `FrameWriter` appends it:
        // the extra keys are then that one key, in storage shared by every such header.
        let extra: JSONObject
        if cursor.skip(#", "x-clever": 1}"#) {
            extra = JSONParser.markerOnly
        } else if cursor.skip("}") {
            extra = [:]
        } else {
            return nil
        }
        guard cursor.atEnd else { return nil }
        return FrameHeader(
            byteOrder: .little,
            contentType: .json,
            contentEncoding: "utf-8",
            contentLength: contentLength,
            messageType: messageType,
            action: action,
            requestedValue: requestedValue,
            requestID: requestID,
            deliverySequence: sequence,
            deliveryAcknowledgement: acknowledged,
            extra: extra
        )
    }
}

/// A position in a header's bytes, for ``FrameHeader/parseLibraryLayout(_:limits:)``.
private struct LayoutCursor {
    let base: UnsafePointer<UInt8>
    let count: Int
    var index = 0

    init(base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.count = count
    }

    /// Whether every byte was read.
    var atEnd: Bool { index == count }

    /// Consumes `literal` if the bytes continue with it.
    @inline(__always)
    mutating func skip(_ literal: StaticString) -> Bool {
        let length = literal.utf8CodeUnitCount
        guard count - index >= length, memcmp(base + index, literal.utf8Start, length) == 0 else { return false }
        index += length
        return true
    }

    /// Consumes a non-negative JSON integer of at most `maximumDigits` digits.
    @inline(__always)
    mutating func length(maximumDigits: Int) -> Int? {
        let start = index
        var value = 0
        while index < count, base[index] &- UInt8(ascii: "0") < 10 {
            value = value &* 10 &+ Int(base[index] &- UInt8(ascii: "0"))
            index += 1
        }
        let digits = index - start
        guard digits > 0, digits <= maximumDigits, digits == 1 || base[start] != UInt8(ascii: "0") else { return nil }
        return value
    }

    /// Consumes a quoted string of printable ASCII without escapes.
    @inline(__always)
    mutating func asciiString() -> String? {
        guard index < count, base[index] == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        var i = start
        while i < count {
            let byte = base[i]
            if byte == UInt8(ascii: "\"") { break }
            guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else { return nil }
            i += 1
        }
        guard i < count else { return nil }
        index = i + 1
        let text = UnsafeBufferPointer(start: base + start, count: i - start)
        return String(unsafeUninitializedCapacity: text.count) { buffer in
            _ = buffer.initialize(from: text)
            return text.count
        }
    }
}
