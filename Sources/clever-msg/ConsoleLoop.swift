/// What the console does next, decided from what happened: a pure state
/// machine (no I/O, no tasks), so that each rule can be tested on its own.
///
/// One command runs at a time; lines typed meanwhile wait their turn. Ctrl-C
/// while a command runs cancels it, drops the lines waiting, and returns to
/// the prompt at once. Ctrl-C at the prompt warns; a second one right after
/// (or right after a cancel) leaves.
struct ConsoleLoop: Sendable {
    /// Something that happened.
    enum Event: Hashable, Sendable {
        /// A line was typed.
        case line(String)
        /// Ctrl-C (SIGINT).
        case interrupt
        /// Standard input ended.
        case endOfInput
        /// Command `number` returned; `keepGoing` is `false` for `quit`.
        case finished(number: Int, keepGoing: Bool)
    }

    /// What to do.
    enum Action: Hashable, Sendable {
        /// Start command `number` for `line`.
        case run(String, number: Int)
        /// Cancel command `number`, typed as `line`, and say so.
        case cancel(String, number: Int)
        /// Tell how to leave (Ctrl-C at the prompt once).
        case warn
        /// Show the prompt.
        case prompt
        /// Stop the console.
        case leave
    }

    /// The command running: its number and line.
    private(set) var running: (number: Int, line: String)?
    private var waiting: [String] = []
    private var inputEnded = false
    private var lastWasInterrupt = false
    private var commands = 0

    /// Whether a command is running.
    var isRunning: Bool { running != nil }

    /// Creates the machine: idle at the prompt.
    init() {}

    /// Takes in one event.
    /// - Parameter event: what happened.
    /// - Returns: what to do, in order.
    mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .line(let line):
            lastWasInterrupt = false
            if running != nil {
                waiting.append(line)
                return []
            }
            return start(line)
        case .interrupt:
            defer { lastWasInterrupt = true }
            if let (number, line) = running {
                running = nil
                waiting.removeAll()
                return [.cancel(line, number: number)] + next()
            }
            return lastWasInterrupt ? [.leave] : [.warn, .prompt]
        case .endOfInput:
            inputEnded = true
            return running == nil ? [.leave] : []
        case .finished(let number, let keepGoing):
            // A cancelled command that returns late is already accounted for.
            guard running?.number == number else { return [] }
            running = nil
            return keepGoing ? next() : [.leave]
        }
    }

    private mutating func start(_ line: String) -> [Action] {
        if line.allSatisfy({ $0 == " " || $0 == "\t" }) { return [.prompt] }
        commands += 1
        running = (commands, line)
        return [.run(line, number: commands)]
    }

    /// The next waiting line, or the prompt, or leaving once the input ended.
    private mutating func next() -> [Action] {
        while !waiting.isEmpty {
            let actions = start(waiting.removeFirst())
            if running != nil { return actions }
        }
        return inputEnded ? [.leave] : [.prompt]
    }
}
