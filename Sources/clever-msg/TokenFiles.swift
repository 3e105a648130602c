import ArgumentParser
import CleverMessaging
import Foundation

/// The `--token-file` of `serve`, `drone` and `swarm`: read when the command's
/// arguments are checked, so that a missing or malformed file stops it before
/// anything starts, with one `error: …` line (or one JSON object with `--json`)
/// and exit code 2.
enum TokenFiles {
    /// The exit code of an unusable token file.
    static let exitCode = ExitCode(2)

    /// A server's token file: one shared token, or `id token` lines.
    /// - Parameters:
    ///   - path: the file, if one was given.
    ///   - json: whether the command prints JSON.
    /// - Returns: the tokens, or `nil` when no file was given.
    /// Exits with ``exitCode`` after printing the error when the file cannot be used.
    static func store(_ path: String?, json: Bool) -> TokenStore? {
        guard let path else { return nil }
        do {
            return try TokenStore.load(path: path)
        } catch {
            fail(error, json: json)
        }
    }

    /// A client's token file: the token on its first line.
    /// - Parameters:
    ///   - path: the file, if one was given.
    ///   - json: whether the command prints JSON.
    /// - Returns: the token, or `nil` when no file was given.
    /// Exits with ``exitCode`` after printing the error when the file cannot be used.
    static func clientToken(_ path: String?, json: Bool) -> String? {
        guard let path else { return nil }
        do {
            return try TokenStore.loadClientToken(path: path)
        } catch {
            fail(error, json: json)
        }
    }

    /// Prints the error in the one error format and exits with code 2.
    private static func fail(_ error: TokenFileError, json: Bool) -> Never {
        let report = ErrorReport(code: "token_file", message: error.description)
        let line = json ? JSONValue.object(report.json).description : report.text
        FileHandle.standardError.write(Data((line + "\n").utf8))
        Foundation.exit(exitCode.rawValue)
    }
}
