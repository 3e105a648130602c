/// The state of a command that holds the terminal's screen (`watch`): it
/// takes every key typed, and lines other tasks print meanwhile wait until it
/// gives the screen back. Pure, so each rule can be tested without a terminal.
struct ScreenHold: Sendable {
    /// Lines printed while the screen is held, in order; `nil` when it is not held.
    private(set) var held: [String]?
    /// A key was pressed and nobody took it yet.
    private var pending = false
    /// The task waiting for a key, if any.
    private var waiter: CheckedContinuation<Void, Never>?
    /// The waiting task was cancelled: its wait ends at once.
    private var cancelled = false

    /// Whether a command holds the screen.
    var isHeld: Bool { held != nil }

    /// A command takes the screen: keys go to it from now on.
    mutating func take() {
        held = []
        pending = false
        cancelled = false
    }

    /// The command gives the screen back.
    /// - Returns: the lines held back meanwhile, to print now.
    mutating func release() -> [String] {
        defer {
            held = nil
            waiter?.resume()
            waiter = nil
        }
        return held ?? []
    }

    /// A key was read.
    /// - Returns: whether the holder took it (the line editor must not see it).
    mutating func keyPressed() -> Bool {
        guard held != nil else { return false }
        pending = true
        waiter?.resume()
        waiter = nil
        return true
    }

    /// A line to print.
    /// - Returns: whether it was held back (the screen is held).
    mutating func hold(_ line: String) -> Bool {
        guard held != nil else { return false }
        held!.append(line)
        return true
    }

    /// The holder waits for a key.
    /// - Returns: whether a key came already (or the wait was cancelled): resume at once.
    mutating func wait(_ continuation: CheckedContinuation<Void, Never>) -> Bool {
        if pending || cancelled || held == nil {
            pending = false
            return true
        }
        waiter = continuation
        return false
    }

    /// The waiting task was cancelled.
    mutating func cancel() {
        cancelled = true
        waiter?.resume()
        waiter = nil
    }
}
