import CleverMessaging

/// The options a reference drone's `config/client.ini` holds, with their
/// checks and defaults, as its configspec gives them (DRONE.md §5.1).
///
/// The ground station's config editor gets the checks as they are written
/// (``specObject``) and labels list items from the `__list__` comment lines
/// (``Option/comments``).
public struct DroneConfigSpec: Sendable, Hashable {
    /// One option of the spec.
    public struct Option: Sendable, Hashable {
        /// Its section path from the root (`[]` for a root option, `["ANIMATION", "OUTPUT"]` for a subsection's).
        public var section: [String]
        /// Its name within the section.
        public var name: String
        /// The check as the spec writes it, e.g. `integer(default=25000, min=1)`.
        public var check: String
        /// The comment lines written before it.
        public var comments: [String]
        /// The value type the check names.
        public var kind: Kind
        /// The typed default value.
        public var defaultValue: JSONValue

        /// The flattened name the reference uses: `SECTION_name` (`FLIGHT_takeoff_height`), the name alone at the root.
        public var key: String { (section + [name]).joined(separator: "_") }
    }

    /// The value types of the spec's checks.
    public enum Kind: String, Sendable, Hashable {
        /// A string.
        case string
        /// A float.
        case float
        /// An integer.
        case integer
        /// A boolean.
        case boolean
        /// A list of floats.
        case floatList
        /// An IP address, held as a string.
        case ip
    }

    /// Every option, in the spec's order.
    public let options: [Option]

    /// The reference drone's spec (mirror HEAD `2062940`).
    public static let reference = DroneConfigSpec(text: referenceText)

    /// Parses a configspec: `key = check(default=…) # comment`, `[SECTION]`, `[[SUBSECTION]]`, `# comment` lines.
    /// - Parameter text: the spec text.
    public init(text: String) {
        var options: [Option] = []
        var section: [String] = []
        var comments: [String] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingSpaces()
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                comments.append(line)
                continue
            }
            if line.hasPrefix("[") {
                let depth = line.prefix { $0 == "[" }.count
                let name = line.filter { $0 != "[" && $0 != "]" }.trimmingSpaces()
                section = Array(section.prefix(depth - 1)) + [name]
                comments = []
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let name = line[..<equals].trimmingSpaces()
            let check = line[line.index(after: equals)...].trimmingSpaces()
            let kind = Self.kind(of: check)
            options.append(Option(section: section, name: name, check: check, comments: comments, kind: kind,
                                  defaultValue: Self.defaultValue(of: check, kind: kind)))
            comments = []
        }
        self.options = options
    }

    /// The spec as the `config` reply's `configspec` member carries it: nested objects of check strings.
    public var specObject: JSONValue {
        var root = JSONObject()
        for option in options { Self.insert(.string(option.check), at: option.section, name: option.name, into: &root) }
        return .object(root)
    }

    /// Puts `value` at `section`/`name` in a nested object, creating the sections in order.
    static func insert(_ value: JSONValue, at section: [String], name: String, into object: inout JSONObject) {
        guard let first = section.first else {
            object[name] = value
            return
        }
        var inner = object[first]?.objectValue ?? [:]
        insert(value, at: Array(section.dropFirst()), name: name, into: &inner)
        object[first] = .object(inner)
    }

    private static func kind(of check: String) -> Kind {
        switch check.prefix(while: { $0 != "(" }) {
        case "float": return .float
        case "integer": return .integer
        case "boolean": return .boolean
        case "float_list": return .floatList
        case "ip", "ip_addr": return .ip
        default: return .string
        }
    }

    private static func defaultValue(of check: String, kind: Kind) -> JSONValue {
        guard let start = check.range(of: "default=") else { return .null }
        var text = check[start.upperBound...]
        if text.hasPrefix("list(") {
            let inner = text.dropFirst(5).prefix { $0 != ")" }
            return (try? DroneConfigValue.convert(.string(String(inner)), to: kind)) ?? .null
        }
        text = text.prefix { $0 != "," && $0 != ")" }
        var value = String(text).trimmingSpaces()
        if value.count >= 2, value.hasPrefix("'") && value.hasSuffix("'") { value = String(value.dropFirst().dropLast()) }
        return (try? DroneConfigValue.convert(.string(value), to: kind)) ?? .null
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
