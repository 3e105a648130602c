import CleverMessaging

/// Converts configuration values to their spec types, as the reference's
/// validation does: a typed value or its text (an `.ini` loaded without a spec) both pass.
public enum DroneConfigValue {
    /// A value that does not convert to its option's type.
    public struct Invalid: Error, Sendable, Hashable, CustomStringConvertible {
        /// The value and the type it failed.
        public var description: String
    }

    /// Converts `value` to `kind`.
    /// - Parameters:
    ///   - value: a typed value or a string.
    ///   - kind: the option's type.
    /// - Returns: the typed value.
    /// - Throws: ``Invalid`` when it does not convert.
    public static func convert(_ value: JSONValue, to kind: DroneConfigSpec.Kind) throws(Invalid) -> JSONValue {
        let invalid = Invalid(description: "\(value) is not a valid \(kind.rawValue)")
        switch kind {
        case .string, .ip:
            switch value {
            case .string: return value
            case .integer(let i): return .string(String(i))
            case .double(let d): return .string(String(d))
            default: throw invalid
            }
        case .float:
            if let d = number(value) { return .double(d) }
            throw invalid
        case .integer:
            if case .integer = value { return value }
            if case .string(let s) = value, let i = Int(s.trimmingSpaces()) { return .integer(i) }
            if case .double(let d) = value, d == d.rounded(), abs(d) < 1e15 { return .integer(Int(d)) }
            throw invalid
        case .boolean:
            if case .bool = value { return value }
            if case .string(let s) = value {
                switch s.trimmingSpaces().lowercased() {
                case "true", "yes", "on", "1": return true
                case "false", "no", "off", "0": return false
                default: throw invalid
                }
            }
            if case .integer(let i) = value, i == 0 || i == 1 { return .bool(i == 1) }
            throw invalid
        case .floatList:
            let items: [JSONValue]
            switch value {
            case .array(let a): items = a
            case .string(let s): items = s.split(separator: ",").map { .string($0.trimmingSpaces()) }
            default: throw invalid
            }
            var numbers: [JSONValue] = []
            for item in items {
                guard let d = number(item) else { throw invalid }
                numbers.append(.double(d))
            }
            guard numbers.count == 3 else { throw invalid }
            return .array(numbers)
        }
    }

    private static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .string(let s): return Double(s.trimmingSpaces())
        case .bool: return nil
        default: return value.doubleValue
        }
    }
}
