#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import CleverMessaging
import NIOCore

/// `clever-msg bench ...`: throughput measurements, one subcommand per area.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
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
            Requests.self,
            Files.self,
            FilesReceiver.self,
            SwarmScale.self,
            RawPeers.self,
        ]
    )
}

extension Bench {
    /// Options every benchmark shares.
    struct Options: ParsableArguments {
        @Flag(help: "Print one JSON line per measurement instead of text.")
        var json = false

        @Option(help: "The minimum duration of each of the 3 timed runs, in seconds.")
        var seconds: Double = 1.0

        @Option(help: ArgumentHelp(
            "The clock rates are measured with: wall (elapsed time) or cpu (this thread's CPU time, steadier on a busy machine).",
            valueName: "clock"
        ))
        var clock: BenchClock = .wall

        func validate() throws {
            guard seconds > 0, seconds.isFinite else { throw ValidationError("--seconds must be positive") }
        }
    }

    /// One reported number.
    struct Measurement {
        /// A stable name, e.g. `codec.decode`.
        var name: String
        /// The best rate measured.
        var value: Double
        /// The unit of ``value`` (and of ``baseline``), e.g. `frames/s`.
        var unit: String
        /// The rate of the baseline doing the same work, if there is one.
        var baseline: Double?
        /// A short human description.
        var label: String

        /// `value / baseline`, if there is a baseline.
        var ratio: Double? { baseline.map { value / $0 } }
    }

    /// Prints measurements as text or JSON lines, and warns about debug builds.
    struct Reporter {
        var json: Bool

        /// Prints the debug-build warning, if this is a debug build (to standard error,
        /// so that `--json` output stays machine-readable).
        func warnIfDebug() {
            #if DEBUG
            var stderr = FileOutput(descriptor: 2)
            stderr.write("warning: clever-msg was built in debug mode; numbers are not representative (use -c release)\n")
            try? stderr.flush()
            #endif
        }

        /// Prints one measurement.
        func report(_ m: Measurement) {
            var out = FileOutput()
            if json {
                let line: JSONObject = [
                    "bench": .string(m.name),
                    "value": .double(Self.rounded(m.value, places: 1)),
                    "unit": .string(m.unit),
                    "baseline": m.baseline.map { .double(Self.rounded($0, places: 1)) } ?? .null,
                    "ratio": m.ratio.map { .double(Self.rounded($0, places: 2)) } ?? .null,
                ]
                out.writeLine(.object(line))
            } else {
                var text = Self.pad(m.label, 34) + Self.pad(Self.humanRate(m.value), 12) + " " + m.unit
                if let baseline = m.baseline, let ratio = m.ratio {
                    text += "   (baseline \(Self.humanRate(baseline)) \(m.unit), ratio \(Self.fixed(ratio, places: 2))x)"
                }
                out.write(text + "\n")
            }
            try? out.flush()
        }

        /// Prints a free-form line in text mode only.
        func note(_ text: String) {
            guard !json else { return }
            var out = FileOutput()
            out.write(text + "\n")
            try? out.flush()
        }

        static func rounded(_ value: Double, places: Int) -> Double {
            var scale = 1.0
            for _ in 0..<places { scale *= 10 }
            return (value * scale).rounded() / scale
        }

        static func fixed(_ value: Double, places: Int) -> String {
            var scale = 1
            for _ in 0..<places { scale *= 10 }
            let scaled = Int((value * Double(scale)).rounded())
            let whole = scaled / scale
            let fraction = String(scaled % scale)
            return "\(whole)." + String(repeating: "0", count: places - fraction.count) + fraction
        }

        static func humanRate(_ value: Double) -> String {
            if value >= 1e9 { return fixed(value / 1e9, places: 2) + " G" }
            if value >= 1e6 { return fixed(value / 1e6, places: 2) + " M" }
            if value >= 1e3 { return fixed(value / 1e3, places: 2) + " k" }
            return fixed(value, places: 1)
        }

        static func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
        }
    }

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

/// The clock a benchmark reads.
enum BenchClock: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Monotonic elapsed time.
    case wall
    /// The calling thread's CPU time: time the thread was descheduled does not count.
    case cpu

    /// The current reading, in nanoseconds.
    func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(self == .wall ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
}

/// Keeps `value` alive so the optimizer cannot drop the work that made it.
@inline(never) @_optimize(none)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
