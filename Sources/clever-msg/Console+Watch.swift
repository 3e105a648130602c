import CleverMessaging
import Foundation

extension Console {
    /// `watch [TARGET]`: on a terminal, a table of the drones redrawn in place
    /// every second until a key is pressed; otherwise (or with `--json`), the
    /// table once.
    func watch(_ words: [String]) async throws {
        let given = try arguments(words, "watch", required: 0, optional: 1)
        let targets = try given.first.flatMap { word throws(ConsoleError) in try reachTargets(word) }
        guard let editor = out.editor, !out.json else {
            let table = await watchTable(targets, limit: nil)
            if out.json {
                for row in table.rows { say(row.json, text: "") }
            } else {
                say([:], text: table.screen(title: watchTitle(table), height: .max).joined(separator: "\n"))
            }
            return
        }
        editor.takeScreen()
        defer { editor.releaseScreen() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await editor.nextKey() }
            group.addTask {
                while !Task.isCancelled {
                    let height = LineEditor.terminalSize.rows
                    let table = await watchTable(targets, limit: height)
                    guard !Task.isCancelled else { return }
                    editor.drawScreen(table.screen(title: watchTitle(table), height: height))
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// The first line of the view: counts, the time, how to leave.
    private func watchTitle(_ table: WatchTable) -> String {
        let up = table.rows.count { $0.connected }
        let time = Date().formatted(.dateTime.hour(.twoDigits(amPM: .omitted)).minute(.twoDigits).second(.twoDigits))
        return "\(up) of \(station.drones.count) drones connected, \(time)" + (out.editor == nil ? "" : " (any key returns)")
    }

    /// The rows for `targets` (`nil`: every drone), in natural order; the link
    /// of at most `limit` of them is asked about (the rows that fit on screen).
    private func watchTable(_ targets: [String]?, limit: Int?) async -> WatchTable {
        let known = Dictionary(station.drones.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        let ids = (targets ?? Array(known.keys)).sorted(by: NaturalOrder.areInIncreasingOrder)
        var rows: [WatchTable.Row] = []
        rows.reserveCapacity(ids.count)
        for (index, id) in ids.enumerated() {
            let drone = known[id]
            var row = WatchTable.Row(id: id, connected: drone?.isConnected ?? false, links: drone?.connections ?? 0)
            row.telemetryAge = station.telemetry(of: id)?.age
            row.clockOffset = station.clockOffset(for: id)?.offset
            if limit.map({ index < $0 }) ?? true, let connection = station.connection(for: id) {
                row.statistics = await connection.linkStatistics()
            }
            rows.append(row)
        }
        return WatchTable(rows: rows)
    }
}
