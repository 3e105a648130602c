import ArgumentParser

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
}
