/// One command of the ground-station console: its name, its arguments as the
/// usage line writes them, and what it does. ``all`` is the one list that
/// `help`, `serve --help` and the usage errors are made from.
struct ConsoleCommand: Sendable, Hashable {
    /// The word that starts the command.
    let name: String
    /// The arguments, optional ones in brackets, such as `N [TIMEOUT]`.
    let arguments: String
    /// What the command does.
    let summary: String

    /// The usage line: the name and the arguments.
    var usage: String { arguments.isEmpty ? name : "\(name) \(arguments)" }

    /// Every command, in the order `help` lists them.
    static let all: [ConsoleCommand] = [
        ConsoleCommand(name: "drones", arguments: "", summary: "list the drones (id, address, state, since), in natural order"),
        ConsoleCommand(name: "wait", arguments: "N [TIMEOUT]", summary: "wait until N drones are connected (TIMEOUT seconds, default 30)"),
        ConsoleCommand(
            name: "send", arguments: "[--queue SECONDS] TARGET ACTION [ARGS_JSON] [KWARGS_JSON]",
            summary: "send an action; one line per drone (sent, or why not), then a summary"
        ),
        ConsoleCommand(
            name: "request", arguments: "[--queue SECONDS] TARGET NAME [ARGS_JSON] [KWARGS_JSON]",
            summary: "ask for a value; one line per drone (the value, or why not), then a summary"
        ),
        ConsoleCommand(name: "push", arguments: "TARGET LOCAL REMOTE", summary: "send the file LOCAL to REMOTE on each drone (progress on a terminal)"),
        ConsoleCommand(name: "pull", arguments: "ID REMOTE LOCAL", summary: "fetch the file REMOTE from one drone into LOCAL"),
        ConsoleCommand(
            name: "watch", arguments: "[TARGET]",
            summary: "a live table of the drones (link, rtt, clock offset, telemetry age, bytes); any key returns"
        ),
        ConsoleCommand(name: "clock", arguments: "[TARGET]", summary: "measure the drones' clocks: offset, uncertainty and round trip (ms)"),
        ConsoleCommand(
            name: "start-at", arguments: "SECONDS ACTION [KWARGS_JSON] [TARGET]",
            summary: "run ACTION SECONDS from now, on each drone's own clock; a summary"
        ),
        ConsoleCommand(name: "help", arguments: "", summary: "list the commands"),
        ConsoleCommand(name: "quit", arguments: "", summary: "stop the station and leave (also: exit, end of input)"),
    ]

    /// The command called `name`, if there is one.
    /// - Parameter name: the first word of a line.
    /// - Returns: the command.
    static func named(_ name: String) -> ConsoleCommand? {
        all.first { $0.name == name }
    }

    /// The text of `help`: every command with its arguments, and what the words mean.
    ///
    /// Each command takes two lines, its usage then what it does, so that no
    /// line is wider than `serve --help` prints without wrapping.
    static var help: String {
        (["Commands, one per line:"] + all.flatMap { ["  \($0.usage)", "      \($0.summary)"] } + [
            "TARGET is a drone id, a comma-separated list of ids, or all: every drone",
            "the station knows, connected or not. No drone is skipped in silence: one",
            "not reached gets a line \"ID: error: disconnected\" (or unknown, or its",
            "error), and a summary line counts them by reason, such as",
            "\"sent to 198 of 202; 4 disconnected: copter-7, copter-9, copter-11, …\".",
            "--queue SECONDS waits up to that long for disconnected drones to connect",
            "again, and sends to (or asks) each one as soon as it is back.",
            "ARGS_JSON is a JSON array (positional arguments), KWARGS_JSON a JSON object",
            "(keyword arguments); either may be left out. Ctrl-C cancels the running",
            "command; Ctrl-C at the prompt twice leaves. Errors read \"error: MESSAGE\", or",
            "\"ID: error: MESSAGE\" for one drone. With --json every line is one JSON",
            "object; an error is {\"id\": ID, \"error\": {\"code\": CODE, \"message\": MESSAGE}},",
            "without \"id\" when it is about no drone.",
        ]).joined(separator: "\n")
    }
}
