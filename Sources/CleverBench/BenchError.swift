/// A benchmark that cannot report numbers, with a one-line message (e.g. its
/// self-check found that the code measured does not do the work it should).
struct BenchError: Error, CustomStringConvertible {
    /// The message.
    var description: String

    /// Creates an error.
    /// - Parameter description: the message.
    init(_ description: String) { self.description = description }
}
