import ArgumentParser
import CleverMessaging
import Foundation
import NIOConcurrencyHelpers

/// The `swarm` child process of `bench swarm`: JSON lines on its stdout,
/// collected by a readability handler (never a blocking read on the async pool).
final class SwarmProcess: Sendable {
    let process: Process
    let input: FileHandle
    private let lines = NIOLockedValueBox((partial: [UInt8](), lines: [JSONValue](), closed: false))

    init(arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments
        let stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        let lines = self.lines
        stdoutPipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            lines.withLockedValue { s in
                if data.isEmpty {
                    s.closed = true
                    handle.readabilityHandler = nil
                    return
                }
                s.partial.append(contentsOf: data)
                while let newline = s.partial.firstIndex(of: UInt8(ascii: "\n")) {
                    if let line = try? JSONParser.parse(s.partial[..<newline]) { s.lines.append(line) }
                    s.partial.removeSubrange(...newline)
                }
            }
        }
        try process.run()
        self.process = process
        self.input = stdinPipe.fileHandleForWriting
    }

    /// Waits until a line satisfies `predicate`.
    func waitFor(timeout: Duration = .seconds(600), _ predicate: @escaping @Sendable (JSONValue) -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let (found, closed) = lines.withLockedValue { s in (s.lines.contains(where: predicate), s.closed) }
            if found { return }
            if closed || clock.now >= deadline { throw ValidationError("swarm process ended or timed out before reporting") }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Stops the swarm; returns its peak RSS in bytes.
    func finish() async throws -> Int {
        input.write(Data("quit\n".utf8))
        try await waitFor(timeout: .seconds(60)) { $0["peak_rss"] != nil }
        return lines.withLockedValue { s in s.lines.compactMap { $0["peak_rss"]?.integerValue }.last ?? 0 }
    }
}
