import CleverMessaging

/// The rows of `watch`: one per drone, what the station knows of it now, laid
/// out for a screen of a given height. Pure, so the layout is tested without a terminal.
struct WatchTable: Sendable {
    /// One drone's line.
    struct Row: Sendable, Hashable {
        /// The drone's id.
        var id: String
        /// Whether a link is up.
        var connected: Bool
        /// How many times it connected.
        var links: Int
        /// What TCP says of the link, when it is up.
        var statistics: LinkStatistics?
        /// Its clock's offset from the station's, when measured.
        var clockOffset: Duration?
        /// How old its latest telemetry record is, when one came.
        var telemetryAge: Duration?

        /// The row as one JSON object (`--json`).
        var json: JSONObject {
            var object: JSONObject = ["id": .string(id), "connected": .bool(connected), "links": .integer(links)]
            if let statistics {
                object["rtt_ms"] = .double(Self.milliseconds(statistics.roundTrip))
                object["bytes_out"] = .integer(Int(clamping: statistics.bytesSent))
                object["bytes_in"] = .integer(Int(clamping: statistics.bytesReceived))
                object["retransmissions"] = .integer(Int(statistics.retransmissions))
            }
            if let clockOffset { object["offset_ms"] = .double(Self.milliseconds(clockOffset)) }
            if let telemetryAge { object["telemetry_age_s"] = .double(Self.milliseconds(telemetryAge) / 1000) }
            return object
        }

        /// The cells of the row, in the order of ``WatchTable/header``.
        var cells: [String] {
            [
                id,
                connected ? "up" : "down",
                "\(links)",
                statistics.map { Self.format(Self.milliseconds($0.roundTrip), digits: 1) + " ms" } ?? "-",
                clockOffset.map { Self.format(Self.milliseconds($0), digits: 1) + " ms" } ?? "-",
                telemetryAge.map { Self.format(Self.milliseconds($0) / 1000, digits: 1) + " s" } ?? "-",
                statistics.map { Self.bytes($0.bytesSent) + " / " + Self.bytes($0.bytesReceived) } ?? "-",
            ]
        }

        static func milliseconds(_ duration: Duration) -> Double {
            let (seconds, attoseconds) = duration.components
            return Double(seconds) * 1000 + Double(attoseconds) / 1e15
        }

        /// `value` with `digits` decimals.
        static func format(_ value: Double, digits: Int) -> String {
            var scale = 1.0
            for _ in 0..<digits { scale *= 10 }
            let rounded = (value * scale).rounded() / scale
            var text = "\(rounded)"
            if let dot = text.firstIndex(of: "."), text.distance(from: dot, to: text.endIndex) - 1 < digits {
                text += String(repeating: "0", count: digits - (text.distance(from: dot, to: text.endIndex) - 1))
            }
            return text
        }

        /// A byte count as people read it: B, KiB, MiB or GiB.
        static func bytes(_ count: UInt64) -> String {
            let units = ["B", "KiB", "MiB", "GiB", "TiB"]
            var value = Double(count)
            var unit = 0
            while value >= 1024, unit < units.count - 1 {
                value /= 1024
                unit += 1
            }
            return unit == 0 ? "\(count) B" : format(value, digits: 1) + " " + units[unit]
        }
    }

    /// The column titles.
    static let header = ["ID", "LINK", "LINKS", "RTT", "OFFSET", "TELEMETRY", "BYTES OUT / IN"]

    /// The rows, in the drones' natural order.
    var rows: [Row]

    /// The screen: a title, the header, and as many rows as fit in `height`
    /// lines (the last line says how many did not fit).
    /// - Parameters:
    ///   - title: the first line.
    ///   - height: the lines available (at least 3 are used).
    /// - Returns: the lines.
    func screen(title: String, height: Int) -> [String] {
        let room = max(1, height - 3)
        let shown = rows.count > room ? Array(rows.prefix(room - 1)) : rows
        var lines = [title] + TextTable([Self.header] + shown.map(\.cells)).lines
        if shown.count < rows.count { lines.append("… and \(rows.count - shown.count) more") }
        return lines
    }
}
