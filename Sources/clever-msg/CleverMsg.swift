import ArgumentParser
import CleverBench
import CleverMessaging
import Foundation

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
            Fleet.self,
            Drone.self,
            Swarm.self,
            Inspect.self,
            Encode.self,
            Bench.self,
        ]
    )

    /// Parses the command line and runs the command; a failure prints one
    /// `error: MESSAGE` line on standard error (a JSON object with `--json`,
    /// see ``ErrorReport``), as the console does.
    static func main() async {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withArgumentError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var command = command
                try command.run()
            }
        } catch let error where error is ValidationError || error is ExitCode || error is CleanExit || exitCode(for: error) != .failure {
            // The parser's own outcomes: help, version, usage errors, an exit code.
            exit(withArgumentError: error)
        } catch {
            let report = ErrorReport(error)
            let line = CommandLine.arguments.contains("--json") ? JSONValue.object(report.json).description : report.text
            FileHandle.standardError.write(Data((line + "\n").utf8))
            Foundation.exit(1)
        }
    }

    /// Exits as the argument parser does (help, usage and version included),
    /// with its `Error:` written `error:` like every other error.
    private static func exit(withArgumentError error: any Error) -> Never {
        let message = fullMessage(for: error)
        let code = exitCode(for: error)
        guard code != .success, message.hasPrefix("Error: ") else { exit(withError: error) }
        FileHandle.standardError.write(Data(("error: " + message.dropFirst("Error: ".count) + "\n").utf8))
        Foundation.exit(code.rawValue)
    }
}
