/// How many handler tasks of a link run, and whether reading the link must
/// stop for them, as a pure state machine: past ``limit`` running, the link
/// is no longer read; it is read again once half of them have finished, so a
/// peer that sends faster than its handlers finish is slowed down instead of
/// starting tasks without bound (``ConnectionConfiguration/maximumConcurrentHandlers``).
package struct HandlerBacklog: Sendable, Hashable {
    /// The most handlers running before reading stops.
    package let limit: Int
    /// Handler tasks running (across links).
    package private(set) var running = 0
    /// Reading the current link is stopped for them.
    package private(set) var paused = false

    /// No handler running.
    package init(limit: Int) {
        self.limit = limit
    }

    /// A handler task starts.
    /// - Parameter canPause: whether there is a link to stop reading.
    /// - Returns: whether reading must stop now.
    package mutating func started(canPause: Bool = true) -> Bool {
        running += 1
        guard running > limit, !paused, canPause else { return false }
        paused = true
        return true
    }

    /// A handler task ended.
    /// - Returns: whether reading may start again now.
    package mutating func finished() -> Bool {
        running -= 1
        guard paused, running <= limit / 2 else { return false }
        paused = false
        return true
    }

    /// A link came up or went down: its reading is not stopped (the handlers still count).
    package mutating func linkChanged() {
        paused = false
    }
}
