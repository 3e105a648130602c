/// The headers of a NATS message (`HPUB`/`HMSG`): a status line and ordered name-value pairs.
///
/// Names keep their case; ``subscript(_:)`` looks a name up case-insensitively.
public struct NATSHeaders: Sendable, Hashable, Codable {
    /// The status code of the header block (`503` means "no responders"), when there is one.
    public var status: Int?
    /// The status's description, when there is one.
    public var statusDescription: String?
    /// The name-value pairs in wire order; a name may repeat.
    public var fields: [Field]

    /// One header field.
    public struct Field: Sendable, Hashable, Codable {
        /// The header's name.
        public var name: String
        /// The header's value.
        public var value: String
        /// A field from its name and value.
        /// - Parameters:
        ///   - name: the name (no `:`, space or line break).
        ///   - value: the value (no line break).
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Headers from fields.
    /// - Parameter fields: the name-value pairs.
    public init(_ fields: [(String, String)] = []) {
        self.status = nil
        self.statusDescription = nil
        self.fields = fields.map { Field(name: $0.0, value: $0.1) }
    }

    /// The first value of the header `name` (case-insensitive), or nil.
    /// - Parameter name: the header's name.
    public subscript(name: String) -> String? {
        let lowered = name.lowercased()
        return fields.first { $0.name.lowercased() == lowered }?.value
    }

    /// Adds a field at the end.
    /// - Parameters:
    ///   - value: the value.
    ///   - name: the name.
    public mutating func add(_ value: String, for name: String) {
        fields.append(Field(name: name, value: value))
    }

    /// The header block as it goes on the wire, `NATS/1.0\r\n…\r\n\r\n`.
    /// - Throws: ``NATSError/invalidArgument(reason:)`` when a name or value cannot be written.
    func encoded() throws(NATSError) -> String {
        var text = "NATS/1.0\r\n"
        for field in fields {
            guard !field.name.isEmpty,
                !field.name.contains(where: { $0 == ":" || $0 == " " || $0 == "\t" || $0.isNewline }),
                !field.value.contains(where: \.isNewline)
            else {
                throw .invalidArgument(reason: "header \(field.name.debugDescription) cannot be written")
            }
            text += "\(field.name): \(field.value)\r\n"
        }
        return text + "\r\n"
    }

    /// Headers read from a header block.
    /// - Throws: ``NATSError/protocolViolation(reason:)`` when the block is not `NATS/1.0` headers.
    static func parse(_ bytes: some Collection<UInt8>) throws(NATSError) -> NATSHeaders {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        guard let first = lines.popFirst(), first.hasPrefix("NATS/1.0") else {
            throw .protocolViolation(reason: "header block does not start with NATS/1.0")
        }
        var headers = NATSHeaders()
        let statusPart = first.dropFirst("NATS/1.0".count).drop { $0 == " " }
        if !statusPart.isEmpty {
            let code = statusPart.prefix { $0.isNumber }
            headers.status = Int(code)
            let description = statusPart.dropFirst(code.count).drop { $0 == " " }
            headers.statusDescription = description.isEmpty ? nil : String(description)
        }
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                throw .protocolViolation(reason: "header line without a colon")
            }
            let name = line[..<colon]
            let value = line[line.index(after: colon)...].drop { $0 == " " }
            headers.fields.append(Field(name: String(name), value: String(value)))
        }
        return headers
    }
}
