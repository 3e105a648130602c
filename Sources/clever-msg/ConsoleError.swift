/// A console command that cannot run as typed: an unknown command, missing or
/// extra words, or an argument that is not what the command takes.
struct ConsoleError: Error, CustomStringConvertible, Hashable, Sendable {
    /// A stable snake_case kind, shown with `--json`: `usage`, `invalid_argument`, `unknown_command`.
    let code: String
    /// The message, naming the argument that is wrong in the console's terms.
    let description: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: the kind.
    ///   - description: the message.
    init(code: String, _ description: String) {
        self.code = code
        self.description = description
    }

    /// The command got too few or too many words.
    /// - Parameter usage: the command's usage line, such as `wait N [TIMEOUT]`.
    /// - Returns: the error.
    static func usage(_ usage: String) -> ConsoleError {
        ConsoleError(code: "usage", "usage: \(usage)")
    }

    /// An argument has the wrong form.
    /// - Parameter message: what is wrong, naming the argument.
    /// - Returns: the error.
    static func invalidArgument(_ message: String) -> ConsoleError {
        ConsoleError(code: "invalid_argument", message)
    }
}
