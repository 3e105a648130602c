import ArgumentParser
import CleverMessaging
import Foundation
import NIOCore

/// The ground-station console's commands (``ConsoleCommand/all``, `help`).
///
/// Each command runs in a task of its own; once that task is cancelled
/// (Ctrl-C) the command prints nothing more.
struct Console: Sendable {
    let station: GroundStation
    let out: LinePrinter
    let timeout: Duration

    /// Runs one command line and prints its results or its error.
    /// - Parameter line: the line typed.
    /// - Returns: `false` for `quit`.
    func execute(_ line: String) async -> Bool {
        var words = Self.split(line, maxWords: 4)
        guard let command = words.first else { return true }
        do {
            // `send` and `request` take `--queue SECONDS` before their target.
            var queue: Duration?
            if command == "send" || command == "request", words.count > 1, words[1] == "--queue" {
                words = Self.split(line, maxWords: 6)
                guard words.count > 2 else { throw ConsoleError.usage(ConsoleCommand.named(command)?.usage ?? command) }
                queue = try ConsoleArguments.seconds(words[2], name: "--queue SECONDS")
                words.removeSubrange(1...2)
            }
            switch command {
            case "quit", "exit": return false
            case "drones": try drones(words)
            case "wait": try await wait(words)
            case "send": try await send(words, queue: queue)
            case "request": try await request(words, queue: queue)
            case "push": try await push(words)
            case "pull": try await pull(words)
            case "watch": try await watch(words)
            case "clock": try await clock(words)
            case "start-at": try await startAt(words)
            case "help": try help(words)
            default: throw ConsoleError(code: "unknown_command", "unknown command \(command) (try help)")
            }
        } catch {
            // A cancelled command was already reported as cancelled.
            if !Task.isCancelled { out.error(error) }
        }
        return true
    }

    /// Prints a result line, unless the command was cancelled.
    func say(_ object: JSONObject, text: @autoclosure () -> String) {
        guard !Task.isCancelled else { return }
        out.print(object, text: text())
    }

    /// Prints one drone's error, unless the command was cancelled.
    private func fail(_ error: any Error, drone: String) {
        guard !Task.isCancelled else { return }
        out.error(error, drone: drone)
    }

    /// The words of `command`, checked against its usage line: at least `required` after the name.
    func arguments(_ words: [String], _ command: String, required: Int, optional: Int = 0) throws(ConsoleError) -> [String] {
        let usage = ConsoleCommand.named(command)?.usage ?? command
        let given = words.count - 1
        guard given >= required, given <= required + optional else { throw .usage(usage) }
        return Array(words.dropFirst())
    }

    private func help(_ words: [String]) throws {
        _ = try arguments(words, "help", required: 0)
        let text = ConsoleCommand.help
        say(["help": .string(text)], text: text)
    }

    private func drones(_ words: [String]) throws {
        _ = try arguments(words, "drones", required: 0)
        let list = station.drones.sorted { NaturalOrder.areInIncreasingOrder($0.id, $1.id) }
        if list.isEmpty {
            say(["drones": []], text: "no drones")
            return
        }
        if out.json {
            for d in list {
                say(["id": .string(d.id), "address": .string(d.address), "connected": .bool(d.isConnected), "since": .double(d.since)], text: "")
            }
            return
        }
        let rows = list.map { d in
            [d.id, d.address, d.isConnected ? "connected" : "disconnected", "since \(Date(timeIntervalSince1970: d.since))"]
        }
        say([:], text: TextTable(rows).lines.joined(separator: "\n"))
    }

    private func wait(_ words: [String]) async throws {
        let given = try arguments(words, "wait", required: 1, optional: 1)
        let count = try ConsoleArguments.count(given[0], name: "N")
        let timeout = try given.count > 1 ? ConsoleArguments.seconds(given[1], name: "TIMEOUT") : .seconds(30)
        say(["waiting": .integer(count), "timeout": .string(LogFormat.duration(timeout))],
            text: "waiting up to \(LogFormat.duration(timeout)) for \(count) drones (Ctrl-C cancels)")
        let ok: Bool
        do {
            try await station.waitForDrones(count, timeout: timeout)
            ok = true
        } catch {
            ok = false
        }
        try Task.checkCancellation()
        let connected = station.connectedIDs.count
        say(["wait": .integer(count), "connected": .integer(connected), "ok": .bool(ok)],
            text: ok ? "\(connected) of \(count) drones connected" : "timed out: \(connected) of \(count) drones connected")
    }

    /// The drones of `TARGET`: `nil` for `all` (every drone the station knows,
    /// connected or not), else the ids named, in natural order, each once.
    func reachTargets(_ word: String) throws(ConsoleError) -> [String]? {
        guard word != "all" else {
            if station.drones.isEmpty { throw .invalidArgument("TARGET all: no drone has connected yet") }
            return nil
        }
        var seen = Set<String>()
        let ids = word.split(separator: ",").map(String.init).filter { seen.insert($0).inserted }
        if ids.isEmpty { throw .invalidArgument("TARGET names no drone: \(word)") }
        return ids.sorted(by: NaturalOrder.areInIncreasingOrder)
    }

    private func send(_ words: [String], queue: Duration?) async throws {
        let given = try arguments(words, "send", required: 2, optional: 1)
        let action = given[1]
        let (args, kwargs) = try ConsoleArguments.messageArguments(given.count > 2 ? given[2] : "")
        let ids = try reachTargets(given[0])
        if let queue { announce(queue) }
        let results = try await station.send(action, args: args, kwargs: kwargs, to: ids, waitingUpTo: queue)
        try Task.checkCancellation()
        report(results, command: "send", name: action, verb: "sent to") { id, _ in
            say(["id": .string(id), "sent": .string(action)], text: "\(id): sent \(action)")
        }
    }

    private func request(_ words: [String], queue: Duration?) async throws {
        let given = try arguments(words, "request", required: 2, optional: 1)
        let name = given[1]
        let (args, kwargs) = try ConsoleArguments.messageArguments(given.count > 2 ? given[2] : "")
        let ids = try reachTargets(given[0])
        if let queue { announce(queue) }
        // One fan-out for all targets: no task, promise or thread hop per drone.
        let answers = await station.requestAll(name, args: args, kwargs: kwargs, from: ids, timeout: timeout, waitingUpTo: queue)
        try Task.checkCancellation()
        report(answers, command: "request", name: name, verb: "answered") { id, value in
            say(["id": .string(id), "value": value], text: "\(id): \(value)")
        }
    }

    /// Says that the command waits for disconnected drones.
    private func announce(_ queue: Duration) {
        say(["queue": .string(LogFormat.duration(queue))], text: "waiting up to \(LogFormat.duration(queue)) for disconnected drones (Ctrl-C cancels)")
    }

    /// Prints one line per drone, in natural order (`reached` for those that
    /// succeeded, the one error format for the others, with why), then the
    /// summary line (see ``ReachReport``).
    func report<Value: Sendable>(
        _ results: DroneResults<Value>,
        command: String,
        name: String,
        verb: String,
        reached: (String, Value) -> Void
    ) {
        let report = ReachReport(results, command: command, name: name, verb: verb)
        for line in report.lines {
            switch line {
            case .reached(let id, let value): reached(id, value)
            case .skipped(let error): say(error.json, text: error.text)
            }
        }
        say(report.summaryJSON, text: report.summary)
    }

    /// `push TARGET LOCAL REMOTE`: the file goes to every drone at once, up to
    /// 32 at a time (``GroundStation/pushFile(_:to:drones:maximumConcurrent:acknowledgementTimeout:progress:)``),
    /// with one progress line for the fleet; a line per drone and a summary follow.
    private func push(_ words: [String]) async throws {
        let given = try arguments(words, "push", required: 3)
        let (local, remote) = (given[1], given[2])
        let ids = try reachTargets(given[0])
        let line = out.json ? nil : PushProgressLine("push \(local)")
        let results: DroneResults<FileTransferResult>
        do {
            results = try await station.pushFile(local, to: remote, drones: ids, progress: line?.handler)
        } catch {
            // The local file could not be read: no drone got it, each says why.
            let known = Set(station.drones.map(\.id))
            let every = ids ?? known.sorted(by: NaturalOrder.areInIncreasingOrder)
            for id in every { fail(error, drone: id) }
            let tally = DroneTally(every.map { ($0, known.contains($0) ? DroneSkipReason(error, known: true) : .unknown) })
            say(tally.json(command: "push", name: remote), text: tally.summary("pushed to"))
            return
        }
        report(results, command: "push", name: remote, verb: "pushed to") { id, result in
            say(
                ["id": .string(id), "pushed": .string(remote), "bytes": .integer(Int(result.bytes)), "delivery": .string("\(result.delivery)")],
                text: "\(id): pushed \(result.bytes) bytes to \(remote) (\(result.delivery))"
            )
        }
    }

    private func pull(_ words: [String]) async throws {
        let given = try arguments(words, "pull", required: 3)
        let (id, remote, local) = (given[0], given[1], given[2])
        do {
            guard let connection = station.connection(for: id) else { throw MessagingError.notConnected }
            let bar = out.json ? nil : ProgressBar("pull \(remote) ← \(id)")
            let result = try await connection.pullFile(remote, to: local, progress: bar?.handler)
            say(["id": .string(id), "pulled": .string(remote), "bytes": .integer(Int(result.bytes)), "path": .string(local)],
                text: "\(id): pulled \(result.bytes) bytes into \(local)")
        } catch {
            fail(error, drone: id)
        }
    }

    /// Splits off up to `maxWords - 1` words at white space; the rest of the line is the last word.
    static func split(_ line: String, maxWords: Int) -> [String] {
        var words: [String] = []
        var rest = Substring(line).drop { $0 == " " || $0 == "\t" }
        while !rest.isEmpty {
            if words.count == maxWords - 1 {
                words.append(String(rest).trimmingCharacters(in: .whitespaces))
                break
            }
            let word = rest.prefix { $0 != " " && $0 != "\t" }
            words.append(String(word))
            rest = rest.dropFirst(word.count).drop { $0 == " " || $0 == "\t" }
        }
        return words
    }
}
