/// What ``ConsoleSession`` runs: one command line at a time, and what stops
/// the calls a cancelled command may still wait on.
protocol ConsoleCommands: Sendable {
    /// Runs one command line and prints its results or its error.
    /// - Parameter line: the line typed.
    /// - Returns: `false` for `quit`.
    func execute(_ line: String) async -> Bool

    /// Stops what the commands run on (a station, a NATS connection), once the session ends.
    func shutdown() async
}

extension Console: ConsoleCommands {
    /// Stops the station: a call that does not end on cancellation ends when its link closes.
    func shutdown() async { station.shutdown() }
}
