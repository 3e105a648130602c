import Crypto

/// The tokens a server accepts: one token shared by every peer, or one token
/// per peer id (``TokenServerStage``).
///
/// Read from a token file with ``parse(_:)`` or ``load(path:)``: blank lines
/// and lines starting with `#` are skipped; a file whose one line is a single
/// word holds a shared token, a file of `id token` lines holds per-peer tokens.
public struct TokenStore: Sendable, Hashable {
    /// The tokens.
    public enum Tokens: Sendable, Hashable {
        /// One token for every peer.
        case shared(String)
        /// A token for each peer id.
        case perPeer([String: String])
    }

    /// The tokens.
    public var tokens: Tokens

    /// A store of one shared token.
    /// - Parameter token: the token (any non-empty text).
    public init(sharedToken token: String) {
        self.tokens = .shared(token)
    }

    /// A store of per-peer tokens.
    /// - Parameter tokens: each peer id's token.
    public init(tokens: [String: String]) {
        self.tokens = .perPeer(tokens)
    }

    /// Whether a peer must name its id (per-peer tokens).
    public var isPerPeer: Bool {
        if case .perPeer = tokens { return true }
        return false
    }

    /// The token a peer proves, as a key.
    /// - Parameter id: the id the peer named (ignored for a shared token).
    /// - Returns: the key, or `nil` when that id has no token.
    func key(for id: String?) -> SymmetricKey? {
        switch tokens {
        case .shared(let token): return SymmetricKey(data: Array(token.utf8))
        case .perPeer(let tokens):
            guard let id, let token = tokens[id] else { return nil }
            return SymmetricKey(data: Array(token.utf8))
        }
    }

    /// Reads a server's token file's text.
    /// - Parameter text: the file's text.
    /// - Returns: the store.
    /// - Throws: ``TokenFileError`` when the text holds no token, or lines of both kinds, or a repeated id.
    public static func parse(_ text: String) throws(TokenFileError) -> TokenStore {
        var shared: String?
        var perPeer: [String: String] = [:]
        for (number, fields) in TokenFileError.lines(of: text) {
            switch fields.count {
            case 1 where shared == nil && perPeer.isEmpty:
                shared = fields[0]
            case 2 where shared == nil:
                guard perPeer[fields[0]] == nil else { throw TokenFileError(line: number, reason: "id \(fields[0]) has two tokens") }
                perPeer[fields[0]] = fields[1]
            case 1, 2:
                throw TokenFileError(line: number, reason: "a shared token and `id token` lines cannot be mixed")
            default:
                throw TokenFileError(line: number, reason: "expected `token` or `id token`, found \(fields.count) words")
            }
        }
        if let shared { return TokenStore(sharedToken: shared) }
        guard !perPeer.isEmpty else { throw TokenFileError(line: nil, reason: "no token in the file") }
        return TokenStore(tokens: perPeer)
    }

    /// Reads a server's token file.
    /// - Parameter path: the file's path.
    /// - Returns: the store.
    /// - Throws: ``TokenFileError`` when the file cannot be read or is malformed.
    public static func load(path: String) throws(TokenFileError) -> TokenStore {
        do {
            return try parse(TokenFileError.read(path))
        } catch {
            throw error.at(path)
        }
    }

    /// Reads a client's token file: its first line (blank lines and `#` comments skipped) is the token.
    /// - Parameter path: the file's path.
    /// - Returns: the token.
    /// - Throws: ``TokenFileError`` when the file cannot be read, holds no token, or its first line is not one word.
    public static func loadClientToken(path: String) throws(TokenFileError) -> String {
        do {
            return try parseClientToken(TokenFileError.read(path))
        } catch {
            throw error.at(path)
        }
    }

    /// Reads a client's token file's text (see ``loadClientToken(path:)``).
    /// - Parameter text: the file's text.
    /// - Returns: the token.
    /// - Throws: ``TokenFileError`` when the text holds no token or its first line is not one word.
    public static func parseClientToken(_ text: String) throws(TokenFileError) -> String {
        guard let (number, fields) = TokenFileError.lines(of: text).first else {
            throw TokenFileError(line: nil, reason: "no token in the file")
        }
        guard fields.count == 1 else {
            throw TokenFileError(line: number, reason: "expected one token on the line, found \(fields.count) words")
        }
        return fields[0]
    }
}
