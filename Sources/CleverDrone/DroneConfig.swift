import CleverMessaging

/// A simulated drone's configuration: the typed value of every option of its
/// ``DroneConfigSpec``, read and written as the reference's `config` request and
/// action do (DRONE.md §5).
public struct DroneConfig: Sendable, Hashable {
    /// How a `config` action combines the values it carries with the current ones (DRONE.md §5.2).
    public enum WriteMode: String, Sendable, Hashable {
        /// Deep-merged over the current configuration (the reference's default).
        case modify
        /// A new configuration: options not given take their defaults.
        case rewrite
    }

    /// The spec the values follow.
    public let spec: DroneConfigSpec
    /// The values by flattened key (`FLIGHT_takeoff_height`).
    private var values: [String: JSONValue] {
        didSet { telemetryText = TelemetryText(values) }
    }
    /// What every telemetry record reads from the configuration, worked out when it changes, not per record.
    private(set) var telemetryText: TelemetryText

    /// The configuration's parts of a telemetry record (DRONE.md §1.2).
    struct TelemetryText: Sendable, Hashable {
        /// `FLIGHT_frame_id`: the last item of `current_position`.
        let frameID: String
        /// `config_version`: the configuration's name and version (`Default V0.0`).
        let configVersion: String

        init(_ values: [String: JSONValue]) {
            frameID = values["FLIGHT_frame_id"]?.stringValue ?? ""
            let name = values["config_name"]?.stringValue ?? ""
            configVersion = "\(name) V\(DroneModel.pythonFloat(values["config_version"]?.doubleValue ?? .nan))"
        }
    }

    /// The reference spec's defaults, made once (a fleet's drones share its storage until they change it).
    public static let reference = DroneConfig(spec: .reference)

    /// A configuration of the spec's defaults.
    /// - Parameter spec: the options (default: the reference drone's).
    public init(spec: DroneConfigSpec = .reference) {
        self.spec = spec
        var values: [String: JSONValue] = [:]
        for option in spec.options { values[option.key] = option.defaultValue }
        self.values = values
        telemetryText = TelemetryText(values)
    }

    /// The value of the option with flattened key `key`, or `nil` for an unknown key.
    public subscript(key: String) -> JSONValue? { values[key] }

    /// Sets an option, converted to its type.
    /// - Parameters:
    ///   - key: the flattened key.
    ///   - value: the value or its text.
    /// - Throws: ``DroneConfigValue/Invalid`` for an unknown key or a value that does not convert.
    public mutating func set(_ key: String, _ value: JSONValue) throws(DroneConfigValue.Invalid) {
        guard let option = spec.options.first(where: { $0.key == key }) else {
            throw DroneConfigValue.Invalid(description: "no option \(key)")
        }
        values[key] = try DroneConfigValue.convert(value, to: option.kind)
    }

    /// A float option (NaN when it is not a number).
    public func double(_ key: String) -> Double { values[key]?.doubleValue ?? .nan }
    /// A string option (empty when it is not a string).
    public func string(_ key: String) -> String { values[key]?.stringValue ?? "" }
    /// A boolean option (false when it is not a boolean).
    public func bool(_ key: String) -> Bool { values[key]?.boolValue ?? false }
    /// A float-list option (three zeros when it is not a list).
    public func vector(_ key: String) -> [Double] {
        let items = values[key]?.arrayValue?.compactMap(\.doubleValue) ?? []
        return items.count == 3 ? items : [0, 0, 0]
    }

    /// The configuration as the `config` reply's `config` member carries it: nested
    /// sections of `{"__value__": v}` options, with their comment lines.
    public var fullObject: JSONValue {
        var root = JSONObject()
        for option in spec.options {
            var entry: JSONObject = ["__value__": values[option.key] ?? .null]
            if !option.comments.isEmpty { entry["comments"] = .array(option.comments.map(JSONValue.string)) }
            DroneConfigSpec.insert(.object(entry), at: option.section, name: option.name, into: &root)
        }
        root["initial_comment"] = []
        root["final_comment"] = []
        return .object(root)
    }

    /// The configuration after a `config` action's write (DRONE.md §5.2).
    /// - Parameters:
    ///   - config: the `config` member (`F'`): nested sections of `{"__value__": v}` options (or bare values).
    ///   - mode: ``WriteMode/modify`` or ``WriteMode/rewrite``.
    /// - Returns: the new configuration; nothing changes on a failure.
    /// - Throws: ``DroneConfigValue/Invalid`` when a value does not validate.
    public func writing(_ config: JSONObject, mode: WriteMode) throws(DroneConfigValue.Invalid) -> DroneConfig {
        var result = mode == .rewrite ? DroneConfig(spec: spec) : self
        for option in spec.options {
            var node: JSONValue? = .object(config)
            for name in option.section + [option.name] { node = node?[name] }
            guard let node else { continue }
            let value: JSONValue
            if case .object(let entry) = node {
                if mode == .rewrite, entry["unchanged"] == true { continue }
                guard let inner = entry["__value__"] else { continue }
                value = inner
            } else {
                value = node
            }
            result.values[option.key] = try DroneConfigValue.convert(value, to: option.kind)
        }
        return result
    }

    /// The configuration as `config/client.ini` text.
    public var iniText: String {
        var lines: [String] = []
        var section: [String] = []
        for option in spec.options {
            if option.section != section {
                section = option.section
                let depth = section.count
                lines.append("")
                lines.append(String(repeating: "[", count: depth) + (section.last ?? "") + String(repeating: "]", count: depth))
            }
            lines.append(contentsOf: option.comments)
            lines.append("\(option.name) = \(Self.iniValue(values[option.key] ?? .null))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func iniValue(_ value: JSONValue) -> String {
        switch value {
        case .bool(let b): return b ? "True" : "False"
        case .string(let s): return s
        case .array(let items): return items.map(iniValue).joined(separator: ", ")
        case .double(let d): return d.isNaN ? "nan" : String(d)
        case .integer(let i): return String(i)
        default: return ""
        }
    }
}

extension DroneConfig {
    /// Reads `config/client.ini` text as the reference loads it with its spec: every value
    /// converted to its option's type, options missing from the text at their defaults.
    /// - Parameters:
    ///   - iniText: the file's text (`key = value` lines under `[SECTION]` and `[[SUBSECTION]]` headers).
    ///   - spec: the options (default: the reference drone's).
    /// - Throws: ``DroneConfigValue/Invalid`` when a value does not validate.
    public init(iniText: String, spec: DroneConfigSpec = .reference) throws(DroneConfigValue.Invalid) {
        var root = JSONObject()
        var section: [String] = []
        for raw in iniText.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") {
                let depth = line.prefix { $0 == "[" }.count
                section = Array(section.prefix(depth - 1)) + [line.filter { $0 != "[" && $0 != "]" }.trimmingSpaces()]
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            var value = line[line.index(after: equals)...].trimmingSpaces()
            if let hash = value.firstIndex(of: "#") { value = value[..<hash].trimmingSpaces() }
            if value.count >= 2, (value.hasPrefix("'") && value.hasSuffix("'")) || (value.hasPrefix("\"") && value.hasSuffix("\"")) {
                value = String(value.dropFirst().dropLast())
            }
            DroneConfigSpec.insert(.string(value), at: section, name: line[..<equals].trimmingSpaces(), into: &root)
        }
        self = try DroneConfig(spec: spec).writing(root, mode: .rewrite)
    }
}
