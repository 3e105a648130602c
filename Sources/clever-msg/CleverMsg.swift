import ArgumentParser
import CleverBench

/// The `clever-msg` tool: look at, build and measure frames of the clever-show
/// messaging protocol (see PROTOCOL.md) from the command line.
@main
struct CleverMsg: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clever-msg",
        abstract: "Inspect, encode and benchmark clever-show messaging frames.",
        discussion: """
            clever-msg speaks the wire format of the clever-show drone messaging \
            protocol: a 2-byte big-endian header length, a JSON header, then the \
            content (JSON in Python's dialect, or raw bytes).

              inspect   decode a byte stream (raw or hex) into one JSON line per frame
              encode    write the bytes of one action, request, response or file frame
              bench     measure the codec's throughput (build with -c release)
            """,
        // Add new subcommands here, one type per file.
        subcommands: [
            Inspect.self,
            Encode.self,
            Bench.self,
            Demo.self,
            Serve.self,
            Drone.self,
            Swarm.self,
        ]
    )
}
