import CleverMessaging

/// Reads the arguments of console commands; every error names the argument
/// as the command's usage line does (`N`, `TIMEOUT`, `ARGS_JSON`...).
enum ConsoleArguments {
    /// A count of things: a whole number, 0 or more.
    /// - Parameters:
    ///   - text: the word typed.
    ///   - name: the argument's name in the usage line.
    /// - Returns: the count.
    /// - Throws: ``ConsoleError`` when `text` is not a whole number 0 or more.
    static func count(_ text: String, name: String) throws(ConsoleError) -> Int {
        guard let value = Int(text), value >= 0 else {
            throw .invalidArgument("\(name) must be a whole number, 0 or more, got \(text)")
        }
        return value
    }

    /// A length of time in seconds: a finite number greater than 0, at most a year.
    /// - Parameters:
    ///   - text: the word typed.
    ///   - name: the argument's name in the usage line.
    /// - Returns: the duration.
    /// - Throws: ``ConsoleError`` when `text` is not such a number.
    static func seconds(_ text: String, name: String) throws(ConsoleError) -> Duration {
        guard let value = Double(text), value.isFinite, value > 0, value <= maximumSeconds else {
            throw .invalidArgument("\(name) must be a number of seconds greater than 0 (at most \(Int(maximumSeconds))), got \(text)")
        }
        return .milliseconds(Int64((value * 1000).rounded(.up)))
    }

    /// The longest timeout the console takes: a year.
    static let maximumSeconds: Double = 365 * 24 * 3600

    /// The positional and keyword arguments of `send` and `request`: the text
    /// after the action holds `[ARGS_JSON] [KWARGS_JSON]`, a JSON array then a
    /// JSON object, each optional (a lone object is the keyword arguments).
    /// - Parameter text: the rest of the line after the action's name.
    /// - Returns: the positional and keyword arguments.
    /// - Throws: ``ConsoleError`` naming `ARGS_JSON` or `KWARGS_JSON` when one is not valid JSON or not of its kind.
    static func messageArguments(_ text: String) throws(ConsoleError) -> (args: [JSONValue], kwargs: JSONObject) {
        let pieces = splitJSONValues(text)
        switch pieces.count {
        case 0:
            return ([], [:])
        case 1 where pieces[0].hasPrefix("{"):
            return ([], try object(pieces[0], name: "KWARGS_JSON"))
        case 1:
            return (try array(pieces[0], name: "ARGS_JSON"), [:])
        case 2:
            return (try array(pieces[0], name: "ARGS_JSON"), try object(pieces[1], name: "KWARGS_JSON"))
        default:
            throw .invalidArgument("expected at most ARGS_JSON and KWARGS_JSON, got \(pieces.count) values: \(text)")
        }
    }

    /// Parses `text` as a JSON array.
    /// - Throws: ``ConsoleError`` naming the argument.
    static func array(_ text: String, name: String) throws(ConsoleError) -> [JSONValue] {
        let value = try json(text, name: name)
        guard case .array(let elements) = value else {
            throw .invalidArgument("\(name) must be a JSON array (the positional arguments), got \(value)")
        }
        return elements
    }

    /// Parses `text` as a JSON object.
    /// - Throws: ``ConsoleError`` naming the argument.
    static func object(_ text: String, name: String) throws(ConsoleError) -> JSONObject {
        let value = try json(text, name: name)
        guard case .object(let members) = value else {
            throw .invalidArgument("\(name) must be a JSON object (the keyword arguments), got \(value)")
        }
        return members
    }

    private static func json(_ text: String, name: String) throws(ConsoleError) -> JSONValue {
        do {
            return try JSONParser.parse(text)
        } catch {
            throw .invalidArgument("\(name) is not valid JSON: \(error)")
        }
    }

    /// Splits text holding JSON values one after another into the text of each.
    ///
    /// An array or object ends at its closing bracket (brackets inside strings
    /// do not count); any other value ends at white space. A value that is
    /// never closed takes the rest of the text, so that the JSON parser
    /// reports what is wrong with it.
    /// - Parameter text: the values, separated by optional white space.
    /// - Returns: the text of each value.
    static func splitJSONValues(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var pieces: [String] = []
        var index = 0
        func isSpace(_ scalar: Unicode.Scalar) -> Bool { scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" }
        while true {
            while index < scalars.count, isSpace(scalars[index]) { index += 1 }
            guard index < scalars.count else { return pieces }
            let start = index
            if scalars[index] == "[" || scalars[index] == "{" {
                var depth = 0
                var inString = false
                var escaped = false
                scan: while index < scalars.count {
                    let scalar = scalars[index]
                    index += 1
                    if inString {
                        if escaped { escaped = false } else if scalar == "\\" { escaped = true } else if scalar == "\"" { inString = false }
                        continue
                    }
                    switch scalar {
                    case "\"": inString = true
                    case "[", "{": depth += 1
                    case "]", "}":
                        depth -= 1
                        if depth == 0 { break scan }
                    default: break
                    }
                }
            } else {
                while index < scalars.count, !isSpace(scalars[index]) { index += 1 }
            }
            var piece = String.UnicodeScalarView()
            piece.append(contentsOf: scalars[start..<index])
            pieces.append(String(piece))
        }
    }
}
