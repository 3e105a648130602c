import ArgumentParser

/// `clever-msg bench ...`: throughput measurements, one subcommand per area.
///
/// A command-line tool lists it among its subcommands. The `files` and `swarm`
/// measurements start that same executable again (`/proc/self/exe`) for their
/// second process, as `bench files-receiver`, `bench raw-peers` and `swarm`:
/// the tool must offer these commands under these names.
public struct Bench: AsyncParsableCommand {
    /// The command's name, help and subcommands.
    public static let configuration = CommandConfiguration(
        abstract: "Measure throughput (build with -c release for meaningful numbers).",
        discussion: """
            Each measurement runs a warm-up, then 3 runs of at least --seconds each, \
            and reports the best run. Output is human-readable, or with --json one line \
            per measurement: {"bench": NAME, "value": X, "unit": U, "baseline": B, "ratio": R}.
            """,
        // Add new benchmarks here (bench messages, bench requests, ...).
        subcommands: [
            Codec.self,
            Messages.self,
            Typed.self,
            Requests.self,
            Files.self,
            FilesReceiver.self,
            SwarmScale.self,
            FleetScale.self,
            RawPeers.self,
        ]
    )

    /// Creates the command (argument parsing calls this).
    public init() {}
}

extension Bench {
    /// Runs `batch` (which does some work and returns how many items it did) for
    /// a warm-up, then `runs` times for at least `seconds` each.
    /// - Parameters:
    ///   - seconds: the minimum duration of each run.
    ///   - runs: how many timed runs.
    ///   - clock: the clock durations are read from.
    ///   - batch: the work.
    /// - Returns: the best rate, in items per second.
    static func bestRate(seconds: Double, runs: Int = 3, clock: BenchClock = .wall, _ batch: () -> Int) -> Double {
        func timed(_ minimum: Double) -> Double {
            let start = clock.nanoseconds()
            var items = 0
            var elapsed = 0.0
            repeat {
                items += batch()
                elapsed = Double(clock.nanoseconds() &- start) / 1e9
            } while elapsed < minimum
            return Double(items) / elapsed
        }
        _ = timed(min(0.25, seconds / 2))  // warm-up: caches, allocator, branch predictors
        var best = 0.0
        for _ in 0..<runs { best = max(best, timed(seconds)) }
        return best
    }
}
