import CleverBridge
import CleverMessaging
import Foundation

/// The fleet console's commands (``ConsoleCommand/fleet``) over a ``FleetView``.
///
/// Each command runs in a task of its own; once that task is cancelled
/// (Ctrl-C) the command prints nothing more.
struct FleetConsole: ConsoleCommands {
    let view: FleetView
    let out: LinePrinter
    let timeout: Duration

    func execute(_ line: String) async -> Bool {
        let words = Console.split(line, maxWords: 4)
        guard let command = words.first else { return true }
        do {
            switch command {
            case "quit", "exit": return false
            case "drones": try await drones(words)
            case "send": try await send(words)
            case "request": try await request(words)
            case "clock": try await clock(words)
            case "start-at": try await startAt(words)
            case "watch": try await watch(words)
            case "help":
                _ = try arguments(words, "help", required: 0)
                say(["help": .string(ConsoleCommand.fleetHelp)], text: ConsoleCommand.fleetHelp)
            default: throw ConsoleError(code: "unknown_command", "unknown command \(command) (try help)")
            }
        } catch let error as FleetError {
            if !Task.isCancelled { out.error(Self.consoleError(error)) }
        } catch {
            if !Task.isCancelled { out.error(error) }
        }
        return true
    }

    func shutdown() async { await view.client.close() }

    /// A fleet error in the console's one error format (its code kept).
    static func consoleError(_ error: FleetError) -> ConsoleError {
        ConsoleError(code: error.code, error.message)
    }

    /// Prints a result line, unless the command was cancelled.
    func say(_ object: JSONObject, text: @autoclosure () -> String) {
        guard !Task.isCancelled else { return }
        out.print(object, text: text())
    }

    /// The words of `command`, checked against its usage line.
    func arguments(_ words: [String], _ command: String, required: Int, optional: Int = 0) throws(ConsoleError) -> [String] {
        let usage = ConsoleCommand.fleetNamed(command)?.usage ?? command
        let given = words.count - 1
        guard given >= required, given <= required + optional else { throw .usage(usage) }
        return Array(words.dropFirst())
    }

    private func drones(_ words: [String]) async throws {
        _ = try arguments(words, "drones", required: 0)
        let statuses = try await view.discover()
        try Task.checkCancellation()
        let count = statuses.reduce(0) { $0 + $1.drones.count }
        if count == 0 {
            say(["drones": [], "stations": .integer(statuses.count)], text: "no drones (\(statuses.count) station\(statuses.count == 1 ? "" : "s"))")
            return
        }
        var rows: [[String]] = []
        for status in statuses {
            for drone in status.drones.sorted(by: { NaturalOrder.areInIncreasingOrder($0.id, $1.id) }) {
                let id = "\(status.station)/\(drone.id)"
                var object: JSONObject = [
                    "id": .string(id), "station": .string(status.station), "drone": .string(drone.id), "connected": .bool(drone.connected),
                ]
                if let address = drone.address { object["address"] = .string(address) }
                if let offset = drone.clockOffsetMilliseconds { object["offset_ms"] = .double(offset) }
                if out.json { say(object, text: "") }
                rows.append([
                    id, drone.address ?? "-", drone.connected ? "connected" : "disconnected",
                    drone.clockOffsetMilliseconds.map { String(format: "offset %+.3f ms", $0) } ?? "",
                ])
            }
        }
        say(["drones": .integer(count), "stations": .integer(statuses.count)],
            text: (TextTable(rows).lines + ["\(count) drones on \(statuses.count) station\(statuses.count == 1 ? "" : "s")"]).joined(separator: "\n"))
    }

    private func send(_ words: [String]) async throws {
        let given = try arguments(words, "send", required: 2, optional: 1)
        let target = try FleetTarget(parsing: given[0])
        let action = given[1]
        let (args, kwargs) = try ConsoleArguments.messageArguments(given.count > 2 ? given[2] : "")
        let sent = try await view.send(action, arguments: Self.fleetArguments(args, kwargs), to: target)
        try Task.checkCancellation()
        for drone in sent { say(["id": .string(drone.description), "sent": .string(action)], text: "\(drone): sent \(action)") }
        let stations = Set(sent.map(\.station)).count
        say(["command": "send", "name": .string(action), "sent": .integer(sent.count), "stations": .integer(stations)],
            text: "sent \(action) to \(sent.count) drones on \(stations) station\(stations == 1 ? "" : "s")")
    }

    private func request(_ words: [String]) async throws {
        let given = try arguments(words, "request", required: 2, optional: 1)
        let target = try FleetTarget(parsing: given[0])
        let name = given[1]
        let (args, kwargs) = try ConsoleArguments.messageArguments(given.count > 2 ? given[2] : "")
        let results = try await view.request(name, arguments: Self.fleetArguments(args, kwargs), from: target, timeout: timeout)
        try Task.checkCancellation()
        var errors: [String: Int] = [:]
        for result in results {
            switch result.result {
            case .success(let value):
                say(["id": .string(result.drone.description), "value": value], text: "\(result.drone): \(value)")
            case .failure(let error):
                errors[error.code, default: 0] += 1
                if !Task.isCancelled { out.error(Self.consoleError(error), drone: result.drone.description) }
            }
        }
        let answered = results.count - errors.values.reduce(0, +)
        let reasons = errors.sorted { $0.key < $1.key }
        var summary: JSONObject = ["command": "request", "name": .string(name), "answered": .integer(answered), "total": .integer(results.count)]
        if !reasons.isEmpty { summary["errors"] = .object(JSONObject(uniqueKeysWithValues: reasons.map { ($0.key, JSONValue.integer($0.value)) })) }
        let why = reasons.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        say(summary, text: "answered by \(answered) of \(results.count)" + (why.isEmpty ? "" : "; \(why)"))
    }

    private func clock(_ words: [String]) async throws {
        let given = try arguments(words, "clock", required: 0, optional: 1)
        let stations = given.first.map { $0.split(separator: ",").map(String.init) }
        let results = try await view.measureClocks(of: stations)
        try Task.checkCancellation()
        if results.isEmpty { say(["clock": [], "stations": 0], text: "no stations answered") }
        for station in results.keys.sorted(by: NaturalOrder.areInIncreasingOrder) {
            switch results[station]! {
            case .success(let offset): say(Self.json(offset), text: "\(station): \(Self.text(offset))")
            case .failure(let error): if !Task.isCancelled { out.error(Self.consoleError(error), drone: station) }
            }
        }
    }

    private func startAt(_ words: [String]) async throws {
        let given = try arguments(words, "start-at", required: 2, optional: 1)
        let seconds = try ConsoleArguments.seconds(given[0], name: "SECONDS")
        let action = given[1]
        let (kwargsText, targetText) = Console.splitKwargsAndTarget(given.count > 2 ? given[2] : "")
        let (_, kwargs) = try ConsoleArguments.messageArguments(kwargsText)
        let target = try targetText.map { text throws(FleetError) in try FleetTarget(parsing: text) } ?? .all
        let instant = Date().timeIntervalSince1970 + Double(seconds.components.seconds) + Double(seconds.components.attoseconds) / 1e18
        say(["start_at": .double(instant), "action": .string(action)],
            text: "starting \(action) at \(String(format: "%.3f", instant)) on this console's clock (in \(LogFormat.duration(seconds)))")
        let outcomes = try await view.start(
            at: instant, action: action, kwargs: Dictionary(uniqueKeysWithValues: kwargs.map { ($0.key, $0.value) }), target: target,
            timeout: timeout)
        try Task.checkCancellation()
        var acknowledged = 0
        var failed = 0
        for outcome in outcomes {
            switch outcome.result {
            case .success(let reply):
                acknowledged += reply.succeeded.count
                failed += reply.failed.count
                var object: JSONObject = [
                    "station": .string(outcome.station), "succeeded": .array(reply.succeeded.map { .string($0) }),
                    "failed": .object(JSONObject(uniqueKeysWithValues: reply.failed.sorted { $0.key < $1.key }.map {
                        ($0.key, JSONValue.object(["code": .string($0.value.code), "message": .string($0.value.message)]))
                    })),
                ]
                if let clock = outcome.clock { object.merge(Self.json(clock), uniquingKeysWith: { first, _ in first }) }
                if let time = outcome.stationTime { object["station_time"] = .double(time) }
                var text = "\(outcome.station): acknowledged by \(reply.succeeded.count)"
                if !reply.failed.isEmpty { text += ", failed on \(reply.failed.count)" }
                if let time = outcome.stationTime { text += String(format: ", at %.6f on its clock", time) }
                if let clock = outcome.clock { text += " (offset \(Console.signed(clock.offset)) ms ± \(String(format: "%.3f", Console.milliseconds(clock.uncertainty))))" }
                say(object, text: text)
                for (drone, error) in reply.failed.sorted(by: { $0.key < $1.key }) where !Task.isCancelled {
                    out.error(Self.consoleError(error), drone: "\(outcome.station)/\(drone)")
                }
            case .failure(let error):
                if !Task.isCancelled { out.error(Self.consoleError(error), drone: outcome.station) }
            }
        }
        let stations = outcomes.count { if case .success = $0.result { true } else { false } }
        say(["command": "start-at", "name": .string(action), "acknowledged": .integer(acknowledged), "failed": .integer(failed),
             "stations": .integer(stations), "of_stations": .integer(outcomes.count)],
            text: "acknowledged by \(acknowledged) drones on \(stations) of \(outcomes.count) station\(outcomes.count == 1 ? "" : "s")" + (failed > 0 ? "; \(failed) failed" : ""))
    }

    /// The contract's arguments from the console's.
    static func fleetArguments(_ args: [JSONValue], _ kwargs: JSONObject) -> FleetArguments {
        FleetArguments(args: args, kwargs: Dictionary(kwargs.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last }))
    }

    /// `{"station", "offset_ms", "uncertainty_ms", "rtt_ms", "samples"}`.
    static func json(_ offset: FleetClockOffset) -> JSONObject {
        [
            "station": .string(offset.station), "offset_ms": .double(Console.milliseconds(offset.offset)),
            "uncertainty_ms": .double(Console.milliseconds(offset.uncertainty)), "rtt_ms": .double(Console.milliseconds(offset.roundTrip)),
            "samples": .integer(offset.samples),
        ]
    }

    /// `offset_ms +0.012 uncertainty_ms 0.041 rtt_ms 0.082 (8 samples)`.
    static func text(_ offset: FleetClockOffset) -> String {
        "offset_ms \(Console.signed(offset.offset)) uncertainty_ms \(String(format: "%.3f", Console.milliseconds(offset.uncertainty))) "
            + "rtt_ms \(String(format: "%.3f", Console.milliseconds(offset.roundTrip))) (\(offset.samples) samples)"
    }
}
