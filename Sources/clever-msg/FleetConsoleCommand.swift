/// The fleet console's commands (`clever-msg fleet`), in the order `help` lists them.
extension ConsoleCommand {
    /// Every command of the fleet console.
    static let fleet: [ConsoleCommand] = [
        ConsoleCommand(name: "drones", arguments: "", summary: "list the drones of every station as STATION/DRONE"),
        ConsoleCommand(
            name: "send", arguments: "TARGET ACTION [ARGS_JSON] [KWARGS_JSON]",
            summary: "publish an action; a line per drone it was sent to, then a summary"
        ),
        ConsoleCommand(
            name: "request", arguments: "TARGET NAME [ARGS_JSON] [KWARGS_JSON]",
            summary: "ask for a value; a line per drone (value, or why not), then a summary"
        ),
        ConsoleCommand(name: "clock", arguments: "[STATION,…]", summary: "measure each station's clock over NATS: offset, uncertainty, rtt (ms)"),
        ConsoleCommand(
            name: "start-at", arguments: "SECONDS ACTION [KWARGS_JSON] [TARGET]",
            summary: "run ACTION in SECONDS on every station's own clock; a line per station"
        ),
        ConsoleCommand(
            name: "watch", arguments: "[TARGET]",
            summary: "a live table of the drones' links, clock offsets and telemetry"
        ),
        ConsoleCommand(name: "help", arguments: "", summary: "list the commands"),
        ConsoleCommand(name: "quit", arguments: "", summary: "leave (also: exit, end of input); the stations fly on"),
    ]

    /// The fleet command called `name`, if there is one.
    /// - Parameter name: the first word of a line.
    /// - Returns: the command.
    static func fleetNamed(_ name: String) -> ConsoleCommand? {
        fleet.first { $0.name == name }
    }

    /// The text of the fleet console's `help`.
    static var fleetHelp: String {
        (["Commands, one per line:"] + fleet.flatMap { ["  \($0.usage)", "      \($0.summary)"] } + [
            "TARGET is * (or all): every drone of every station; STATION/*: every drone",
            "of one station; STATION/DRONE: one drone; or a comma-separated list of these.",
            "Stations are found with a clever.discover request (see the DocC article",
            "\"Many stations, one fleet\"). A drone not reached gets a line",
            "\"STATION/DRONE: error: MESSAGE\" and the summary counts errors by code.",
            "ARGS_JSON is a JSON array, KWARGS_JSON a JSON object; either may be left out.",
            "With --json every line is one JSON object. Lines starting with + and - are",
            "drones joining and leaving; ! lines are the console's NATS link dropping",
            "and coming back, with how long it was down.",
        ]).joined(separator: "\n")
    }
}
