#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension LineEditor {
    /// Takes the whole screen for a live view: the terminal's alternate screen,
    /// cursor hidden; keys go to ``nextKey()`` and printed lines wait until
    /// ``releaseScreen()``.
    func takeScreen() {
        screen.take()
        Self.emit("\u{1B}[?1049h\u{1B}[?25l\u{1B}[H\u{1B}[2J")
    }

    /// Draws `lines` from the top of the held screen, each erasing what it covers, and clears below.
    func drawScreen(_ lines: [String]) {
        Self.emit("\u{1B}[H" + lines.map { $0 + "\u{1B}[K" }.joined(separator: "\n") + "\n\u{1B}[J")
    }

    /// Gives the screen back: the previous screen returns, then the lines held back meanwhile.
    func releaseScreen() {
        let held = screen.release()
        Self.emit("\u{1B}[?25h\u{1B}[?1049l")
        for line in held { printAbove(line) }
    }

    /// Waits for a key while the screen is held; returns at once when cancelled.
    func nextKey() async { await screen.nextKey() }

    /// The terminal's size, in rows and columns (24×80 when it does not say).
    static var terminalSize: (rows: Int, columns: Int) {
        var size = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0, size.ws_col > 0 else { return (24, 80) }
        return (Int(size.ws_row), Int(size.ws_col))
    }
}
