/// The credentials the client sends in `CONNECT`.
public enum NATSAuthentication: Sendable, Hashable, Codable {
    /// No credentials (or those of the server's URL).
    case none
    /// A token (`auth_token`).
    case token(String)
    /// A user name and password.
    case userPassword(user: String, password: String)
}
