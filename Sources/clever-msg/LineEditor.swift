import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Line editing for the console on a terminal: the terminal is put in raw
/// mode and keys are handled here (the toolchain has no readline).
///
/// Keys: printable text inserts at the cursor; ←/→, Home/End, Ctrl-A/Ctrl-E
/// move; Backspace, Delete, Ctrl-U (to start), Ctrl-K (to end), Ctrl-W (word)
/// delete; ↑/↓ walk the history; Enter submits; Ctrl-D on an empty line ends
/// the input; Ctrl-C drops the line and raises SIGINT, which the console
/// traps (it cancels the running command, or leaves when pressed twice).
/// Lines printed by other tasks while a line is being typed appear above it
/// (``printAbove(_:)``), and the typed line is drawn again below them.
final class LineEditor: Sendable {
    /// The prompt drawn before the line.
    let prompt: String
    private let state: NIOLockedValueBox<State>
    /// A command that holds the screen (``takeScreen()``): its keys, and the lines held back meanwhile.
    let screen = HeldScreen()
    private let saved: termios

    /// What a key did.
    enum Event: Equatable {
        /// A line was submitted.
        case line(String)
        /// Ctrl-D on an empty line.
        case endOfInput
        /// Ctrl-C.
        case interrupt
    }

    /// The line being edited and the history; pure, so it can be tested without a terminal.
    struct State {
        var line: [Character] = []
        var cursor = 0
        var history: [String] = []
        /// Where ↑/↓ are in the history (`history.count`: the line being typed).
        var historyIndex = 0
        /// The line being typed, kept while the history is shown.
        var draft: [Character] = []
        /// Bytes of an escape sequence being read.
        var escape: [UInt8] = []
        /// Bytes of a UTF-8 character being read.
        var utf8: [UInt8] = []

        /// Handles one input byte.
        /// - Returns: an event when the byte completed one.
        mutating func feed(_ byte: UInt8) -> Event? {
            if !escape.isEmpty { return feedEscape(byte) }
            if !utf8.isEmpty || byte >= 0x80 { return feedUTF8(byte) }
            switch byte {
            case 0x0D, 0x0A:  // Enter
                let text = String(line)
                if !text.trimmingCharacters(in: .whitespaces).isEmpty, history.last != text { history.append(text) }
                line = []
                cursor = 0
                historyIndex = history.count
                draft = []
                return .line(text)
            case 0x03:  // Ctrl-C: the line typed so far is dropped
                line = []
                cursor = 0
                historyIndex = history.count
                draft = []
                return .interrupt
            case 0x04:  // Ctrl-D
                if line.isEmpty { return .endOfInput }
                deleteForward()
            case 0x01: cursor = 0  // Ctrl-A
            case 0x05: cursor = line.count  // Ctrl-E
            case 0x02: cursor = max(0, cursor - 1)  // Ctrl-B
            case 0x06: cursor = min(line.count, cursor + 1)  // Ctrl-F
            case 0x7F, 0x08: deleteBackward()  // Backspace
            case 0x15:  // Ctrl-U
                line.removeSubrange(0..<cursor)
                cursor = 0
            case 0x0B: line.removeSubrange(cursor...)  // Ctrl-K
            case 0x17: deleteWordBackward()  // Ctrl-W
            case 0x10: recall(-1)  // Ctrl-P
            case 0x0E: recall(1)  // Ctrl-N
            case 0x1B: escape = [byte]
            case 0x09: insert(" ")  // Tab: a separator
            case 0x20..<0x7F: insert(Character(Unicode.Scalar(byte)))
            default: break  // other control keys are ignored
            }
            return nil
        }

        private mutating func feedEscape(_ byte: UInt8) -> Event? {
            escape.append(byte)
            // ESC [ ... final byte (0x40-0x7E), or ESC O x; anything else ends it.
            if escape.count == 2 {
                if byte != UInt8(ascii: "[") && byte != UInt8(ascii: "O") { escape = [] }
                return nil
            }
            guard (0x40...0x7E).contains(byte) || escape.count > 8 else { return nil }
            let sequence = escape
            escape = []
            switch (sequence[1], byte) {
            case (_, UInt8(ascii: "A")): recall(-1)
            case (_, UInt8(ascii: "B")): recall(1)
            case (_, UInt8(ascii: "C")): cursor = min(line.count, cursor + 1)
            case (_, UInt8(ascii: "D")): cursor = max(0, cursor - 1)
            case (_, UInt8(ascii: "H")): cursor = 0
            case (_, UInt8(ascii: "F")): cursor = line.count
            case (UInt8(ascii: "["), UInt8(ascii: "~")):
                switch sequence.dropFirst(2).dropLast() {
                case [UInt8(ascii: "3")]: deleteForward()
                case [UInt8(ascii: "1")], [UInt8(ascii: "7")]: cursor = 0
                case [UInt8(ascii: "4")], [UInt8(ascii: "8")]: cursor = line.count
                default: break
                }
            default: break
            }
            return nil
        }

        private mutating func feedUTF8(_ byte: UInt8) -> Event? {
            utf8.append(byte)
            let expected: Int
            switch utf8[0] {
            case 0xC0..<0xE0: expected = 2
            case 0xE0..<0xF0: expected = 3
            case 0xF0..<0xF8: expected = 4
            default:
                utf8 = []  // a stray continuation byte
                return nil
            }
            guard utf8.count == expected else { return nil }
            if let text = String(validating: utf8, as: UTF8.self) {
                for character in text { insert(character) }
            }
            utf8 = []
            return nil
        }

        private mutating func insert(_ character: Character) {
            line.insert(character, at: cursor)
            cursor += 1
        }

        private mutating func deleteBackward() {
            guard cursor > 0 else { return }
            cursor -= 1
            line.remove(at: cursor)
        }

        private mutating func deleteForward() {
            guard cursor < line.count else { return }
            line.remove(at: cursor)
        }

        private mutating func deleteWordBackward() {
            var start = cursor
            while start > 0, line[start - 1] == " " { start -= 1 }
            while start > 0, line[start - 1] != " " { start -= 1 }
            line.removeSubrange(start..<cursor)
            cursor = start
        }

        /// Moves through the history by `step` (-1 older, +1 newer).
        private mutating func recall(_ step: Int) {
            let target = historyIndex + step
            guard target >= 0, target <= history.count, target != historyIndex else { return }
            if historyIndex == history.count { draft = line }
            historyIndex = target
            line = target == history.count ? draft : Array(history[target])
            cursor = line.count
        }

        /// The text that draws `prompt` and the line with the cursor in place.
        func rendering(prompt: String) -> String {
            var text = "\r" + prompt + String(line) + "\u{1B}[K"
            let back = line.count - cursor
            if back > 0 { text += "\u{1B}[\(back)D" }
            return text
        }
    }

    /// Puts the terminal on `descriptor` 0 in raw mode, or returns `nil` when
    /// standard input or output is not a terminal.
    /// - Parameter prompt: the prompt drawn before the line.
    init?(prompt: String = "> ") {
        guard isatty(0) == 1, isatty(1) == 1 else { return nil }
        var original = termios()
        guard tcgetattr(0, &original) == 0 else { return nil }
        var raw = original
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL)
        // One byte at a time, waiting for it.
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        guard tcsetattr(0, TCSAFLUSH, &raw) == 0 else { return nil }
        self.saved = original
        self.prompt = prompt
        self.state = NIOLockedValueBox(State())
    }

    deinit {
        restore()
    }

    /// Gives the terminal its settings back.
    func restore() {
        var original = saved
        _ = tcsetattr(0, TCSAFLUSH, &original)
    }

    /// The submitted lines, read on a thread of its own; ends on Ctrl-D or
    /// end of input.
    func lines() -> AsyncStream<String> {
        AsyncStream { continuation in
            let thread = Thread { [self] in
                draw()
                var byte: UInt8 = 0
                while read(0, &byte, 1) == 1 {
                    // A command that holds the screen takes every key.
                    if screen.keyPressed() { continue }
                    let (event, screen) = state.withLockedValue { s -> (Event?, String) in
                        let event = s.feed(byte)
                        switch event {
                        case .line(let text):
                            // The submitted line stays on screen; the next prompt comes after its output.
                            return (event, "\r" + prompt + text + "\u{1B}[K\n")
                        case .endOfInput:
                            return (event, "\r\u{1B}[K")
                        case .interrupt:
                            return (event, "\r" + prompt + "^C\u{1B}[K\n")
                        case nil:
                            return (nil, s.rendering(prompt: prompt))
                        }
                    }
                    Self.emit(screen)
                    switch event {
                    case .line(let text):
                        continuation.yield(text)
                    case .endOfInput:
                        continuation.finish()
                        return
                    case .interrupt:
                        // The console traps SIGINT: it cancels the running command, or leaves when idle.
                        kill(getpid(), SIGINT)
                    case nil:
                        break
                    }
                }
                continuation.finish()
            }
            thread.start()
        }
    }

    /// Prints `text` (one or more lines) above the line being edited and draws that line again.
    func printAbove(_ text: String) {
        if screen.hold(text) { return }
        state.withLockedValue { s in
            Self.emit("\r\u{1B}[K" + text + "\n" + s.rendering(prompt: prompt))
        }
    }

    /// Draws the prompt and the current line (after a command's output).
    func draw() {
        state.withLockedValue { s in Self.emit(s.rendering(prompt: prompt)) }
    }

    static func emit(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            offset += n
        }
    }
}
