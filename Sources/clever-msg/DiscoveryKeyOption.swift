import ArgumentParser
import CleverMessaging
import Foundation

/// Reads the key of `--discovery-key FILE` (the file's first line).
///
/// A file that cannot be read or whose first line is blank is a usage
/// error: one `error: --discovery-key: …` line on standard error (a JSON
/// object with `--json`, see ``ErrorReport``), and exit status 2, before
/// anything is started.
/// - Parameters:
///   - path: the option's value, if given.
///   - json: whether errors are printed as JSON.
/// - Returns: the key, or `nil` when no file was given.
/// - Throws: `ExitCode(2)` after printing the error.
func loadDiscoveryKey(_ path: String?, json: Bool) throws -> DiscoveryKey? {
    guard let path else { return nil }
    do {
        return try DiscoveryKey(contentsOfFile: path)
    } catch {
        let report = ErrorReport(code: "invalid_discovery_key", message: "--discovery-key: \(error)")
        let line = json ? JSONValue.object(report.json).description : report.text
        FileHandle.standardError.write(Data((line + "\n").utf8))
        throw ExitCode(2)
    }
}
