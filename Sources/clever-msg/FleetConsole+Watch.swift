import CleverBridge
import CleverMessaging
import Foundation

extension FleetConsole {
    /// `watch [TARGET]`: on a terminal, the table of the drones' latest
    /// telemetry (from the events the view sees) redrawn every second until a
    /// key is pressed; otherwise (or with `--json`), the table once.
    func watch(_ words: [String]) async throws {
        let given = try arguments(words, "watch", required: 0, optional: 1)
        let target = try given.first.map { text throws(FleetError) in try FleetTarget(parsing: text) }
        // The stations' statuses fill in the drones no event named yet.
        _ = try await view.discover()
        guard let editor = out.editor, !out.json else {
            let rows = view.table.sortedRows(target)
            if out.json {
                for row in rows { say(Self.json(row, now: Date().timeIntervalSince1970), text: "") }
                say(["watch": .integer(rows.count)], text: "")
            } else {
                say([:], text: Self.screen(rows, now: Date().timeIntervalSince1970, height: .max).joined(separator: "\n"))
            }
            return
        }
        editor.takeScreen()
        defer { editor.releaseScreen() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await editor.nextKey() }
            group.addTask {
                while !Task.isCancelled {
                    let rows = view.table.sortedRows(target)
                    editor.drawScreen(Self.screen(rows, now: Date().timeIntervalSince1970, height: LineEditor.terminalSize.rows, key: true))
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// One row as JSON: `{"id", "connected", "offset_ms", "telemetry_age_s", "telemetry"}`.
    static func json(_ row: FleetTelemetryTable.Row, now: Double) -> JSONObject {
        var object: JSONObject = ["id": .string(row.drone.description)]
        if let connected = row.connected { object["connected"] = .bool(connected) }
        if let offset = row.clockOffsetMilliseconds { object["offset_ms"] = .double(offset) }
        if let time = row.telemetryTime { object["telemetry_age_s"] = .double(((now - time) * 1000).rounded() / 1000) }
        if let telemetry = row.telemetry { object["telemetry"] = telemetry }
        return object
    }

    /// The title, the header and as many rows as fit in `height` lines.
    static func screen(_ rows: [FleetTelemetryTable.Row], now: Double, height: Int, key: Bool = false) -> [String] {
        let up = rows.count { $0.connected == true }
        let stations = Set(rows.map(\.drone.station)).count
        let title = "\(up) of \(rows.count) drones connected on \(stations) station\(stations == 1 ? "" : "s")" + (key ? " (any key returns)" : "")
        let cells = rows.prefix(max(0, height - 2)).map { row in
            [
                row.drone.description,
                row.connected.map { $0 ? "up" : "down" } ?? "?",
                row.clockOffsetMilliseconds.map { String(format: "%+.3f ms", $0) } ?? "-",
                row.telemetryTime.map { String(format: "%.1f s", max(0, now - $0)) } ?? "-",
                row.telemetry.map { String($0.description.prefix(60)) } ?? "",
            ]
        }
        return [title] + TextTable([["DRONE", "LINK", "OFFSET", "AGE", "TELEMETRY"]] + cells).lines
    }

    /// Prints the drones joining and leaving, and the console's NATS link dropping and coming back.
    static func report(_ event: FleetViewEvent, _ out: LinePrinter) {
        switch event {
        case .joined(let drone, let info):
            out.print(["event": "joined", "id": .string(drone.description), "address": info.address.map { JSONValue.string($0) } ?? JSONValue.null],
                      text: "+ \(drone) joined" + (info.address.map { " from \($0)" } ?? ""))
        case .left(let drone, _):
            out.print(["event": "left", "id": .string(drone.description)], text: "- \(drone) left")
        case .disconnected:
            out.print(["event": "nats_disconnected"], text: "! NATS link lost; reconnecting (events meanwhile are missed)")
        case .reconnected(let gap):
            out.print(["event": "nats_reconnected", "gap_ms": .double(Console.milliseconds(gap))],
                      text: "! NATS link back after \(String(format: "%.3f", Console.milliseconds(gap) / 1000)) s")
        case .malformed(let subject, let reason):
            out.print(["event": "malformed", "subject": .string(subject), "reason": .string(reason)], text: "! \(subject): not the contract's JSON: \(reason)")
        case .telemetry, .clock, .file:
            return
        }
    }
}
