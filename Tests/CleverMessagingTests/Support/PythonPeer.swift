import CleverTestSupport
import Foundation
import NIOConcurrencyHelpers

@testable import CleverMessaging

/// A subprocess that prints JSON lines: the Python reference-style peer
/// (`Tests/Interop/peer.py`), or `clever-msg` itself. Commands go to its stdin,
/// events come back from its stdout (every line is also kept as text, ``textLines``).
final class PythonPeer: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let process: SpawnedProcess
    /// The write end of the process's standard input; `-1` once closed.
    private let input: NIOLockedValueBox<Int32>
    private let state: NIOLockedValueBox<State>
    /// Woken by every chunk of output and by the process's exit: waits need no polling.
    private let changes: StateWaiters

    private struct State {
        var events: [JSONValue] = []
        /// Every line of standard output, JSON or not.
        var text: [String] = []
        /// Whether standard output reached its end (the process exited and its last line arrived).
        var outputEnded = false
        /// Whether standard error reached its end.
        var errorEnded = false
        var partial: [UInt8] = []
        var stderr: [UInt8] = []
    }

    /// The peer script's path.
    static let script = Vectors.packageRoot.appendingPathComponent("Tests/Interop/peer.py").path

    /// Starts `python3 peer.py ARGUMENTS`. Fails (never skips) when python3 is missing.
    convenience init(_ arguments: [String]) throws {
        try self.init(executable: URL(fileURLWithPath: "/usr/bin/env"), arguments: ["python3", Self.script] + arguments)
    }

    /// Set once: a write to a peer that has exited fails with `EPIPE` instead
    /// of killing the whole test process with `SIGPIPE`.
    private static let brokenPipesIgnored: Bool = {
        signal(SIGPIPE, SIG_IGN)
        return true
    }()

    /// Starts `executable ARGUMENTS`.
    init(executable: URL, arguments: [String]) throws {
        _ = Self.brokenPipesIgnored
        let stdinPipe = try SpawnedProcess.pipe()
        let stdoutPipe = try SpawnedProcess.pipe()
        let stderrPipe = try SpawnedProcess.pipe()
        defer {
            // The child has its copies; this process keeps the write end of stdin and the read ends of the others.
            close(stdinPipe.read)
            close(stdoutPipe.write)
            close(stderrPipe.write)
        }
        let state = NIOLockedValueBox(State())
        let changes = StateWaiters()
        self.state = state
        self.changes = changes
        do {
            process = try SpawnedProcess(
                executable: executable.path, arguments: arguments,
                standardInput: .descriptor(stdinPipe.read), standardOutput: .descriptor(stdoutPipe.write),
                standardError: .descriptor(stderrPipe.write),
                onExit: { _ in changes.changed() }
            )
        } catch {
            close(stdinPipe.write)
            close(stdoutPipe.read)
            close(stderrPipe.read)
            throw Failure(description: "cannot start \(executable.path) \(arguments): \(error)")
        }
        input = NIOLockedValueBox(stdinPipe.write)
        let name = executable.lastPathComponent
        SpawnedProcess.readToEnd(stdoutPipe.read, name: "\(name) stdout") { data in
            state.withLockedValue { s in
                s.partial.append(contentsOf: data)
                while let newline = s.partial.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = Array(s.partial[..<newline])
                    s.partial.removeSubrange(...newline)
                    s.text.append(String(decoding: line, as: UTF8.self))
                    if let event = try? JSONParser.parse(line) { s.events.append(event) }
                }
                if data.isEmpty { s.outputEnded = true }
            }
            changes.changed()
        }
        SpawnedProcess.readToEnd(stderrPipe.read, name: "\(name) stderr") { data in
            state.withLockedValue { s in
                s.stderr.append(contentsOf: data.prefix(100_000))
                if data.isEmpty { s.errorEnded = true }
            }
            changes.changed()
        }
    }

    deinit {
        process.terminate()
        closeInput()
    }

    /// Whether the process still runs.
    var isRunning: Bool { process.isRunning }

    /// The exit status once the process has exited (`nil` while it runs).
    var exitStatus: Int32? { process.exitStatus }

    /// Waits for the process to exit (woken by its termination, not polled).
    /// - Returns: whether it exited within `timeout`.
    func waitForExit(timeout: Duration = .seconds(10)) async -> Bool {
        await changes.wait(timeout: timeout) { [self] in !process.isRunning }
    }

    /// Sends the process a signal, such as `SIGINT` (what Ctrl-C sends).
    func sendSignal(_ number: Int32) {
        process.signal(number)
    }

    /// Waits until `count` text lines satisfy `predicate`.
    @discardableResult
    func waitForText(count: Int = 1, timeout: Duration = .seconds(20), where predicate: @escaping (String) -> Bool) async throws -> [String] {
        let predicate = UncheckedTextPredicate(predicate)
        _ = await changes.wait(timeout: timeout) { [self] in textLines.filter(predicate.call).count >= count || !process.isRunning }
        let found = textLines.filter(predicate.call)
        guard found.count >= count else {
            throw Failure(description: "waited for \(count) text lines, got \(found.count); lines: \(textLines.suffix(10)); stderr: \(stderr.suffix(2000))")
        }
        return found
    }

    /// Stops the process at once.
    func terminate() {
        process.terminate()
    }

    /// All events so far.
    var events: [JSONValue] { state.withLockedValue { $0.events } }

    /// What the peer wrote on stderr (for failure messages).
    var stderr: String { state.withLockedValue { String(decoding: $0.stderr, as: UTF8.self) } }

    /// Sends one command.
    func send(_ command: JSONValue) {
        sendLine(command.description)
    }

    /// Sends one line of text. A process that has exited (its end of the pipe
    /// closed) does not get it: the throwing write reports the broken pipe,
    /// where `write(_:)` would crash the test run, and the caller's next wait
    /// fails with the process's output.
    func sendLine(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        input.withLockedValue { fd in
            guard fd >= 0 else { return }
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }

    /// Closes the process's standard input (it reads end-of-file).
    func closeInput() {
        input.withLockedValue { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }

    /// Every line of standard output so far, as text.
    var textLines: [String] { state.withLockedValue { $0.text } }

    /// Waits until standard output and standard error end (the process exited and everything it wrote arrived).
    /// - Returns: whether it ended within `timeout`.
    func waitForOutputEnd(timeout: Duration = .seconds(60)) async -> Bool {
        await changes.wait(timeout: timeout) { [self] in state.withLockedValue { $0.outputEnded && $0.errorEnded } }
    }

    /// Waits until a line of standard output (JSON or not) satisfies `predicate`.
    /// - Returns: the first such line.
    @discardableResult
    func waitForText(timeout: Duration = .seconds(20), where predicate: @escaping @Sendable (String) -> Bool) async throws -> String {
        _ = await changes.wait(timeout: timeout) { [self] in
            state.withLockedValue { $0.text.contains(where: predicate) || $0.outputEnded }
        }
        guard let line = textLines.first(where: predicate) else {
            throw Failure(description: "no such line; lines: \(textLines.suffix(10)); stderr: \(stderr.suffix(2000))")
        }
        return line
    }

    /// Waits until standard error contains `text`.
    /// - Returns: whether it did within `timeout`.
    func waitForStderr(containing text: String, timeout: Duration = .seconds(20)) async -> Bool {
        // Read by a thread of its own, standard error may end a moment after the exit is seen.
        _ = await changes.wait(timeout: timeout) { [self] in stderr.contains(text) || state.withLockedValue { $0.errorEnded } }
        return stderr.contains(text)
    }

    /// Lines that satisfy `predicate`, whatever their shape.
    func lines(where predicate: (JSONValue) -> Bool) -> [JSONValue] {
        events.filter(predicate)
    }

    /// Waits until `count` lines satisfy `predicate`.
    @discardableResult
    func waitForLines(count: Int = 1, timeout: Duration = .seconds(20), where predicate: @escaping (JSONValue) -> Bool) async throws -> [JSONValue] {
        let predicate = UncheckedPredicate(predicate)
        _ = await changes.wait(timeout: timeout) { [self] in lines(where: predicate.call).count >= count || !process.isRunning }
        let found = lines(where: predicate.call)
        guard found.count >= count else {
            throw Failure(description: "waited for \(count) lines, got \(found.count); lines: \(events.suffix(10)); stderr: \(stderr.suffix(2000))")
        }
        return found
    }

    /// Events whose `"event"` is `name` and that satisfy `predicate`.
    func events(_ name: String, where predicate: (JSONValue) -> Bool = { _ in true }) -> [JSONValue] {
        events.filter { $0["event"]?.stringValue == name && predicate($0) }
    }

    /// Waits until `count` events named `name` satisfying `predicate` have arrived.
    @discardableResult
    func waitFor(
        _ name: String,
        count: Int = 1,
        timeout: Duration = .seconds(15),
        where predicate: @escaping (JSONValue) -> Bool = { _ in true }
    ) async throws -> [JSONValue] {
        let predicate = UncheckedPredicate(predicate)
        _ = await changes.wait(timeout: timeout) { [self] in events(name, where: predicate.call).count >= count || !process.isRunning }
        let found = events(name, where: predicate.call)
        guard found.count >= count else {
            throw Failure(
                description: "waited for \(count) \"\(name)\" events, got \(found.count); events: \(events.suffix(10)); stderr: \(stderr.suffix(2000))"
            )
        }
        return found
    }

    /// Sends a `sync` command and waits for its echo: every earlier command has been handled.
    func sync() async throws {
        let tag = "sync-\(UInt64.random(in: 0...UInt64.max))"
        send(["cmd": "sync", "tag": .string(tag)])
        try await waitFor("sync") { $0["tag"]?.stringValue == tag }
    }

    /// The port a `server` peer listens on.
    func listeningPort() async throws -> Int {
        let event = try await waitFor("listening")[0]
        guard let port = event["port"]?.integerValue else { throw Failure(description: "no port in \(event)") }
        return port
    }

    /// Asks the peer to quit and waits for it to exit.
    func quit() async {
        send(["cmd": "quit"])
        _ = await changes.wait(timeout: .seconds(5)) { [self] in !process.isRunning }
        process.terminate()
    }
}

/// A test's predicate, called only while its wait runs (the waiting task holds it).
private struct UncheckedPredicate: @unchecked Sendable {
    let call: (JSONValue) -> Bool

    init(_ call: @escaping (JSONValue) -> Bool) {
        self.call = call
    }
}

/// A test's predicate on text lines, called only while its wait runs (the waiting task holds it).
private struct UncheckedTextPredicate: @unchecked Sendable {
    let call: (String) -> Bool

    init(_ call: @escaping (String) -> Bool) {
        self.call = call
    }
}
