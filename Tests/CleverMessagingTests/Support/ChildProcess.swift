import CleverTestSupport
import Foundation

/// Runs a program to its end without blocking a thread of Swift's
/// cooperative pool (two threads on a 2-core machine). A blocking
/// `waitUntilExit()` or a read to end-of-file in a test holds one of them for
/// the child's whole run; two such tests at once left every async handler of
/// the other tests waiting, and a request that should have been answered at
/// once timed out. Output goes to files, so no pipe needs draining either.
enum ChildProcess {
    /// What a run printed and how it exited.
    struct Output {
        var status: Int32
        var stdout: Data
        var stderr: Data
    }

    /// Runs `executable arguments` with `input` as standard input and waits for it to exit.
    static func run(_ executable: URL, _ arguments: [String], input: Data = Data(), environment: [String: String]? = nil) async throws -> Output {
        let fileManager = FileManager.default
        let directory = fileManager.temporaryDirectory.appendingPathComponent("clever-child-\(UUID().uuidString)")
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? fileManager.removeItem(at: directory) }
        let inURL = directory.appendingPathComponent("stdin")
        let outURL = directory.appendingPathComponent("stdout")
        let errURL = directory.appendingPathComponent("stderr")
        try input.write(to: inURL)
        try Data().write(to: outURL)
        try Data().write(to: errURL)

        let stdin = try SpawnedProcess.open(inURL.path, forWriting: false)
        let stdout = try SpawnedProcess.open(outURL.path, forWriting: true)
        let stderr = try SpawnedProcess.open(errURL.path, forWriting: true)
        defer {
            close(stdin)
            close(stdout)
            close(stderr)
        }
        let process = try SpawnedProcess(
            executable: executable.path, arguments: arguments, environment: environment,
            standardInput: .descriptor(stdin), standardOutput: .descriptor(stdout), standardError: .descriptor(stderr)
        )
        let status = await process.waitForExit()
        return Output(status: status, stdout: try Data(contentsOf: outURL), stderr: try Data(contentsOf: errURL))
    }
}
