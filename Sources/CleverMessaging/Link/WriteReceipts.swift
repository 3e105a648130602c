/// Which writes of a connection ended and how, and who waits for which: the
/// state behind lazy ``SendReceipt``s, as a pure state machine.
///
/// Every flush is one numbered write: the frames queued before it carry the
/// number of the write that takes them (``queued``), so a receipt is just
/// that number, and nothing is made for it unless someone waits for it
/// (``wait(for:_:)``). The connection reports each write's end
/// (``ended(_:failure:)``), or that what was queued will never be written
/// (``dropQueued(_:)``), and resumes the waiters it gets back. A write that
/// ended is remembered: a receipt awaited later completes at once, and one of
/// a failed write fails (a sender always learns that its frame was not written).
package struct WriteReceipts<Waiter> {
    /// What a waiter learns: the write went out, or why it did not.
    package typealias Outcome = Result<Void, MessagingError>

    /// The number of the write that will carry the frames queued now.
    package private(set) var queued: UInt64 = 0
    /// Every write numbered below this ended.
    package private(set) var endedBelow: UInt64 = 0
    /// The last write handed to the current link, until the link goes down (for ``Connection/flushed()``).
    package private(set) var lastTaken: UInt64?
    /// Writes at or past ``endedBelow`` that ended before an earlier one did, with their failure (rare: a
    /// queue dropped while writes are in flight). Sorted by number.
    private var endedAhead: [(number: UInt64, failure: MessagingError?)] = []
    /// Ended writes that failed, as ranges of numbers (adjacent ones with the same error merged): one
    /// or two per lost link.
    private var failures: [(numbers: Range<UInt64>, error: MessagingError)] = []
    /// Waiters for writes that have not ended, in the order they came.
    private var waiters: [(number: UInt64, waiter: Waiter)] = []
    /// Set when the connection is gone: every write not ended fails with it.
    private var abandonedWith: MessagingError?

    /// No write yet.
    package init() {}

    /// Whether anyone waits for a write.
    package var hasWaiters: Bool { !waiters.isEmpty }

    /// A flush takes what is queued for one write.
    /// - Returns: its number (the one its frames' receipts carry).
    package mutating func take() -> UInt64 {
        let number = queued
        queued &+= 1
        lastTaken = number
        return number
    }

    /// The link went down: no write is the last one handed to a link any more.
    package mutating func linkDown() {
        lastTaken = nil
    }

    /// What was queued will never be written (the queue was dropped): its receipts fail with `error`.
    /// - Returns: the waiters to resume, with their outcomes.
    package mutating func dropQueued(_ error: MessagingError) -> [(Waiter, Outcome)] {
        let number = queued
        queued &+= 1
        return ended(number, failure: error)
    }

    /// Write `number` ended: written (`failure` is `nil`), or not.
    /// - Returns: the waiters to resume, with their outcomes, in the order they came.
    package mutating func ended(_ number: UInt64, failure: MessagingError?) -> [(Waiter, Outcome)] {
        if let failure { noteFailure(number, failure) }
        if number == endedBelow {
            endedBelow &+= 1
            while let first = endedAhead.first, first.number == endedBelow {
                endedAhead.removeFirst()
                endedBelow &+= 1
            }
        } else if number > endedBelow {
            let index = endedAhead.firstIndex { $0.number > number } ?? endedAhead.endIndex
            endedAhead.insert((number, failure), at: index)
        }
        guard !waiters.isEmpty else { return [] }
        return resumable()
    }

    /// The connection is gone: every write that has not ended fails with `error`, now and later.
    /// - Returns: the waiters to resume.
    package mutating func abandon(_ error: MessagingError) -> [(Waiter, Outcome)] {
        abandonedWith = abandonedWith ?? error
        let all = waiters.map { ($0.waiter, Outcome.failure(abandonedWith!)) }
        waiters = []
        return all
    }

    /// How write `number` ended, or `nil` while it has not.
    package func outcome(of number: UInt64) -> Outcome? {
        if number < endedBelow || endedAhead.contains(where: { $0.number == number }) {
            // The latest failures are the likeliest to be asked about.
            if let failure = failures.last(where: { $0.numbers.contains(number) }) { return .failure(failure.error) }
            return .success(())
        }
        if let abandonedWith { return .failure(abandonedWith) }
        return nil
    }

    /// `waiter` waits for write `number`, unless it ended.
    /// - Returns: the outcome when it ended (then `waiter` is not kept), else `nil`.
    package mutating func wait(for number: UInt64, _ waiter: Waiter) -> Outcome? {
        if let outcome = outcome(of: number) { return outcome }
        waiters.append((number, waiter))
        return nil
    }

    /// Records that write `number` failed with `error`.
    private mutating func noteFailure(_ number: UInt64, _ error: MessagingError) {
        if let last = failures.last, last.error == error, last.numbers.upperBound == number {
            failures[failures.count - 1].numbers = last.numbers.lowerBound..<(number &+ 1)
        } else {
            failures.append((number..<(number &+ 1), error))
        }
    }

    /// Takes out the waiters whose write ended, with their outcomes.
    private mutating func resumable() -> [(Waiter, Outcome)] {
        var ready: [(Waiter, Outcome)] = []
        var waiting: [(number: UInt64, waiter: Waiter)] = []
        for entry in waiters {
            if let outcome = outcome(of: entry.number) {
                ready.append((entry.waiter, outcome))
            } else {
                waiting.append(entry)
            }
        }
        waiters = waiting
        return ready
    }
}

extension WriteReceipts: Sendable where Waiter: Sendable {}
