/// Why a ``DiscoveryKey`` could not be made.
public enum DiscoveryKeyError: Error, Sendable, Hashable {
    /// The key file cannot be read; `reason` is the system's word for it.
    case unreadable(path: String, reason: String)
    /// The secret is empty, or the key file's first line is blank (`path` is
    /// `nil` for a secret given directly).
    case empty(path: String?)
}

extension DiscoveryKeyError: CustomStringConvertible {
    /// One line for people, naming the file: `cannot read discovery key file PATH: REASON`,
    /// or `discovery key file PATH: the first line is empty`.
    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read discovery key file \(path): \(reason)"
        case .empty(let path?):
            return "discovery key file \(path): the first line is empty (it must hold the key)"
        case .empty(nil):
            return "a discovery key must not be empty"
        }
    }
}
