import CleverMessaging
import UnixSignals

/// Runs the console: reads lines, runs each command in a child task, and
/// cancels that task on Ctrl-C (SIGINT), following ``ConsoleLoop``.
struct ConsoleSession: Sendable {
    /// The commands: a station's (`serve`) or a fleet's (`fleet`).
    let console: any ConsoleCommands
    let out: LinePrinter
    /// The line editor on a terminal (its Ctrl-C raises SIGINT), or `nil` for piped input.
    let editor: LineEditor?

    /// Reads and runs commands until `quit`, the end of input, or Ctrl-C twice.
    ///
    /// Every task (the line reader, the signal watcher, the commands) is a
    /// child of one task group: leaving cancels them all, and this returns
    /// once the last has ended. A command that is cancelled returns to the
    /// prompt at once even when the call it waits on ends only later; it
    /// prints nothing more.
    /// - Parameter interrupts: the SIGINT signals, trapped by the caller.
    func run(interrupts: UnixSignalsSequence) async {
        let (events, input) = AsyncStream.makeStream(of: ConsoleLoop.Event.self)
        let lines = editor?.lines() ?? StandardInput.lines()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await line in lines { input.yield(.line(line)) }
                input.yield(.endOfInput)
            }
            group.addTask {
                for await _ in interrupts { input.yield(.interrupt) }
            }
            var loop = ConsoleLoop()
            // How to stop the running command: finishing the stream its watcher waits on.
            var stopRunning: AsyncStream<Void>.Continuation?
            events: for await event in events {
                for action in loop.handle(event) {
                    switch action {
                    case .run(let line, let number):
                        let (stop, stopper) = AsyncStream.makeStream(of: Void.self)
                        stopRunning = stopper
                        group.addTask { [console] in
                            let keepGoing = await Self.run(line, on: console, until: stop)
                            input.yield(.finished(number: number, keepGoing: keepGoing))
                        }
                    case .cancel(let line, _):
                        stopRunning?.finish()
                        stopRunning = nil
                        out.print(["cancelled": .string(line)], text: "cancelled: \(line)")
                    case .warn:
                        out.print(["interrupt": "press Ctrl-C again or type quit to leave"], text: "(press Ctrl-C again or type quit to leave)")
                    case .prompt:
                        editor?.draw()
                    case .leave:
                        break events
                    }
                }
            }
            stopRunning?.finish()
            group.cancelAll()
            // A call that does not end on cancellation ends when its link closes.
            await console.shutdown()
        }
    }

    /// Runs one command until it returns or `stop` ends, whichever comes first;
    /// then the other is cancelled.
    /// - Returns: `false` when the command was `quit`.
    private static func run(_ line: String, on console: any ConsoleCommands, until stop: AsyncStream<Void>) async -> Bool {
        await withTaskGroup(of: Bool?.self) { race in
            race.addTask { await console.execute(line) }
            race.addTask {
                for await _ in stop {}
                return nil
            }
            let first = await race.next() ?? nil
            race.cancelAll()
            return first ?? true
        }
    }
}
