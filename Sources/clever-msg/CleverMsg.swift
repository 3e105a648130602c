import ArgumentParser
import CleverBench

/// The `clever-msg` tool: look at, build and measure frames of the clever-show
/// messaging protocol (see PROTOCOL.md) from the command line.
@main
struct CleverMsg: AsyncParsableCommand {
    /// The version `clever-msg --version` prints.
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "clever-msg",
        abstract: "Run, simulate, inspect and measure clever-show ground stations and drones.",
        discussion: """
            clever-msg speaks the clever-show drone messaging protocol. Start with \
            `clever-msg demo`; then `serve` a ground station and connect a `drone` or a \
            `swarm` to it; `inspect` and `encode` read and write single frames; `bench` \
            measures this library against raw TCP baselines.
            """,
        version: version,
        // The order a user meets them: the demo, a station and its drones, then the tools.
        subcommands: [
            Demo.self,
            Serve.self,
            Drone.self,
            Swarm.self,
            Inspect.self,
            Encode.self,
            Bench.self,
        ]
    )
}
