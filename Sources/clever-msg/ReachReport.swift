import CleverMessaging

/// What the console prints for a command over several drones (`send`,
/// `request`): one line per drone in natural order, then a summary line.
///
/// A drone not reached is never left out: its line is in the one error format
/// (``ErrorReport``), `copter-7: error: disconnected`, and the summary counts
/// it by reason, `sent to 198 of 202; 4 disconnected: copter-7, copter-9, copter-11, …`.
/// With `--json` the summary is `{"summary": {"command": …, "name": …, "reached": R,
/// "total": T, "skipped": {REASON: [ID, …], …}}}`.
struct ReachReport<Value: Sendable> {
    /// One drone's line.
    enum Line {
        /// The drone succeeded, with its value.
        case reached(id: String, value: Value)
        /// The drone was not reached (or gave no value): why, in the one error format.
        case skipped(ErrorReport)
    }

    /// The lines, in natural order of the drone ids.
    let lines: [Line]
    /// The count, in natural order of the drone ids.
    let tally: DroneTally
    /// The summary line, such as `answered 197 of 202; 4 disconnected: a, b, c, …; 1 timed out: d`.
    let summary: String
    /// The summary as JSON.
    let summaryJSON: JSONObject

    /// Reads the results of a command.
    /// - Parameters:
    ///   - results: one outcome per drone, in any order.
    ///   - command: the command's name, such as `send`.
    ///   - name: the action or value it was about.
    ///   - verb: what reaching a drone is called in the summary: `sent to`, `answered`.
    init(_ results: DroneResults<Value>, command: String, name: String, verb: String) {
        let sorted = results.sorted { NaturalOrder.areInIncreasingOrder($0.droneID, $1.droneID) }
        lines = sorted.map { element in
            switch element.result {
            case .success(let value):
                return .reached(id: element.droneID, value: value)
            case .failure(let error):
                return .skipped(ErrorReport.skipped(droneID: element.droneID, reason: element.skipReason ?? .failed, error: error))
            }
        }
        tally = DroneTally(sorted.map { ($0.droneID, $0.skipReason) })
        summary = tally.summary(verb)
        summaryJSON = tally.json(command: command, name: name)
    }

}

extension DroneTally {
    /// The summary of a console command as JSON.
    /// - Parameters:
    ///   - command: the command's name.
    ///   - name: the action, value or file it was about.
    /// - Returns: `{"summary": {"command", "name", "reached", "total", "skipped": {REASON: [ID, …]}}}`.
    func json(command: String, name: String) -> JSONObject {
        var skippedIDs: JSONObject = [:]
        for group in skipped { skippedIDs[group.reason.rawValue] = .array(group.droneIDs.map { .string($0) }) }
        return [
            "summary": [
                "command": .string(command), "name": .string(name), "reached": .integer(reached),
                "total": .integer(total), "skipped": .object(skippedIDs),
            ]
        ]
    }
}

extension ErrorReport {
    /// One drone's error line: a drone without a link reads as its reason
    /// (code and message `disconnected`, or `unknown` for an id never seen);
    /// any other error as itself (its ``MessagingError/Code`` and message).
    /// - Parameters:
    ///   - droneID: the drone.
    ///   - reason: why it was not reached.
    ///   - error: the error.
    /// - Returns: the report.
    static func skipped(droneID: String, reason: DroneSkipReason, error: MessagingError) -> ErrorReport {
        switch reason {
        case .disconnected: return ErrorReport(code: reason.rawValue, message: "disconnected", drone: droneID)
        case .unknown: return ErrorReport(code: reason.rawValue, message: "unknown drone (never connected)", drone: droneID)
        default: return ErrorReport(error, drone: droneID)
        }
    }
}
