import NIOCore
import NIOEmbedded
import Testing

@testable import CleverMessaging

/// One malformed JSON text and the exact parser error.
struct MalformedJSONCase: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: [UInt8]
    var expected: JSONParsingError

    init(_ name: String, _ text: String, _ expected: JSONParsingError) {
        self.name = name
        self.bytes = Array(text.utf8)
        self.expected = expected
    }

    init(_ name: String, bytes: [UInt8], _ expected: JSONParsingError) {
        self.name = name
        self.bytes = bytes
        self.expected = expected
    }

    var testDescription: String { name }
}
