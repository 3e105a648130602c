import ArgumentParser
import CleverMessaging
import Foundation
import NIOConcurrencyHelpers

/// What a simulated drone prints when it runs a timed start, and the
/// simulated clocks' offsets (`drone --clock-offset`, `swarm --clock-offset-spread`).
enum TimedStartLine {
    /// `{"id", "started": ACTION, "scheduled_at", "ran_at", "late_ms"}`, times on the drone's clock.
    static func json(_ start: TimedStart, id: String) -> JSONObject {
        [
            "id": .string(id), "started": .string(start.action), "scheduled_at": .double(start.scheduledAt),
            "ran_at": .double(start.ranAt), "late_ms": .double(((start.ranAt - start.scheduledAt) * 1e6).rounded() / 1e3),
        ]
    }

    /// `copter-1: started ACTION at 1700000000.100000 (0.042 ms late, own clock)`.
    static func text(_ start: TimedStart, id: String) -> String {
        "\(id): started \(start.action) at \(String(format: "%.6f", start.ranAt)) (\(String(format: "%.3f", (start.ranAt - start.scheduledAt) * 1e3)) ms late, own clock)"
    }

    /// Checks a clock offset option: finite, and within a day.
    static func checkClockOffset(_ seconds: Double, option: String) throws {
        guard seconds.isFinite, abs(seconds) <= 86_400 else {
            throw ValidationError("\(option) must be a number of seconds within a day, got \(seconds)")
        }
    }

    /// The clock offset of swarm drone `drone` (1, 2, …): a fixed value in
    /// `-spread...spread`, the same for a drone number in every run.
    static func clockOffset(drone: Int, spread: Double) -> Duration {
        guard spread != 0 else { return .zero }
        // A multiplicative hash of the number, spread evenly over -1...1.
        let unit = Double((UInt64(drone) &* 0x9E37_79B9_7F4A_7C15) >> 11) / Double(1 << 53)
        let seconds = (unit * 2 - 1) * spread
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}

/// Counts a swarm's timed starts: one line per drone as its handler runs, and
/// once every drone ran it, the spread of their lateness on their own clocks.
final class TimedStartTally: Sendable {
    private struct Start {
        var count = 0
        var earliest = Double.infinity
        var latest = -Double.infinity
    }

    private let starts = NIOLockedValueBox<[String: Start]>([:])
    private let total: Int
    private let out: LinePrinter

    init(total: Int, out: LinePrinter) {
        self.total = total
        self.out = out
    }

    func record(_ start: TimedStart, id: String) {
        out.print(TimedStartLine.json(start, id: id), text: TimedStartLine.text(start, id: id))
        let late = start.ranAt - start.scheduledAt
        let done = starts.withLockedValue { all -> Start? in
            var entry = all[start.id, default: Start()]
            entry.count += 1
            entry.earliest = min(entry.earliest, late)
            entry.latest = max(entry.latest, late)
            all[start.id] = entry
            return entry.count == total ? entry : nil
        }
        guard let done else { return }
        let (earliest, latest) = (done.earliest * 1e3, done.latest * 1e3)
        out.print(
            ["timed_start": .string(start.action), "drones": .integer(total), "late_min_ms": .double(earliest), "late_max_ms": .double(latest), "spread_ms": .double(latest - earliest)],
            text: "all \(total) drones started \(start.action): \(String(format: "%.3f", earliest))…\(String(format: "%.3f", latest)) ms late, spread \(String(format: "%.3f", latest - earliest)) ms"
        )
    }
}
