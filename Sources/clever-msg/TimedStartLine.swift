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

/// Counts a swarm's timed starts: a line per drone as its handler ran, and
/// the spread of their lateness on their own clocks. The lines are printed
/// once every drone ran the start (or when the swarm stops): printing as the
/// handlers run would make each drone of an event loop wait for the lines of
/// the drones before it.
final class TimedStartTally: Sendable {
    private struct Start {
        var runs: [(id: String, start: TimedStart)] = []
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

    /// A drone ran a timed start (on its event loop: kept short).
    func record(_ start: TimedStart, id: String) {
        let late = start.ranAt - start.scheduledAt
        let done = starts.withLockedValue { all -> Start? in
            // Changed in place: a copy of the entry would copy its runs at every drone.
            let count = Self.add((id, start), late: late, to: &all[start.id, default: Start()])
            return count == total ? all.removeValue(forKey: start.id) : nil
        }
        if let done { report(done) }
    }

    private static func add(_ run: (id: String, start: TimedStart), late: Double, to entry: inout Start) -> Int {
        entry.runs.append(run)
        entry.earliest = min(entry.earliest, late)
        entry.latest = max(entry.latest, late)
        return entry.runs.count
    }

    /// Prints the starts not every drone ran (the swarm stops).
    func flush() {
        let left = starts.withLockedValue { all in
            defer { all = [:] }
            return Array(all.values)
        }
        for start in left { report(start) }
    }

    private func report(_ start: Start) {
        guard let action = start.runs.first?.start.action else { return }
        for run in start.runs { out.print(TimedStartLine.json(run.start, id: run.id), text: TimedStartLine.text(run.start, id: run.id)) }
        let (earliest, latest) = (start.earliest * 1e3, start.latest * 1e3)
        out.print(
            [
                "timed_start": .string(action), "drones": .integer(start.runs.count), "late_min_ms": .double(earliest),
                "late_max_ms": .double(latest), "spread_ms": .double(latest - earliest),
            ],
            text: "\(start.runs.count) drones started \(action): \(String(format: "%.3f", earliest))…\(String(format: "%.3f", latest)) ms late, spread \(String(format: "%.3f", latest - earliest)) ms"
        )
    }
}
