import Testing

@testable import clever_msg

/// The console's rules for lines, Ctrl-C, end of input and finished commands.
@Suite("CLI: console loop")
struct ConsoleLoopTests {
    @Test("a line runs; lines typed meanwhile wait their turn; a blank line only shows the prompt")
    func linesRunOneAtATime() {
        var loop = ConsoleLoop()
        #expect(loop.handle(.line("  ")) == [.prompt])
        #expect(loop.handle(.line("wait 2")) == [.run("wait 2", number: 1)])
        #expect(loop.handle(.line("drones")) == [])
        #expect(loop.handle(.finished(number: 1, keepGoing: true)) == [.run("drones", number: 2)])
        #expect(loop.handle(.finished(number: 2, keepGoing: true)) == [.prompt])
        #expect(!loop.isRunning)
    }

    @Test("Ctrl-C during a command cancels it and drops the waiting lines; a second Ctrl-C leaves")
    func interruptCancelsThenLeaves() {
        var loop = ConsoleLoop()
        _ = loop.handle(.line("wait 5 20"))
        _ = loop.handle(.line("drones"))
        #expect(loop.handle(.interrupt) == [.cancel("wait 5 20", number: 1), .prompt])
        #expect(!loop.isRunning)
        // The cancelled command returning later changes nothing.
        #expect(loop.handle(.finished(number: 1, keepGoing: true)) == [])
        #expect(loop.handle(.interrupt) == [.leave])
    }

    @Test("Ctrl-C at the prompt warns first; a line in between starts over")
    func interruptAtThePrompt() {
        var loop = ConsoleLoop()
        #expect(loop.handle(.interrupt) == [.warn, .prompt])
        #expect(loop.handle(.line("drones")) == [.run("drones", number: 1)])
        #expect(loop.handle(.finished(number: 1, keepGoing: true)) == [.prompt])
        #expect(loop.handle(.interrupt) == [.warn, .prompt])
        #expect(loop.handle(.interrupt) == [.leave])
    }

    @Test("quit leaves; the end of input leaves once the commands before it are done")
    func quitAndEndOfInput() {
        var loop = ConsoleLoop()
        _ = loop.handle(.line("quit"))
        #expect(loop.handle(.finished(number: 1, keepGoing: false)) == [.leave])

        var piped = ConsoleLoop()
        _ = piped.handle(.line("wait 1"))
        _ = piped.handle(.line("drones"))
        #expect(piped.handle(.endOfInput) == [])
        #expect(piped.handle(.finished(number: 1, keepGoing: true)) == [.run("drones", number: 2)])
        #expect(piped.handle(.finished(number: 2, keepGoing: true)) == [.leave])
        var idle = ConsoleLoop()
        #expect(idle.handle(.endOfInput) == [.leave])
    }
}
