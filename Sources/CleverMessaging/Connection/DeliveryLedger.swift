import Atomics
import NIOConcurrencyHelpers

/// How far a session's actions were acknowledged, for the receipts that ask.
///
/// An acknowledged action's receipt holds the session's ledger and the
/// action's sequence number, not a promise of its own: sending an action then
/// costs no allocation for its acknowledgement, and an acknowledgement that
/// settles thousands of actions moves one number. Only a receipt that is
/// awaited (``SendReceipt/delivered()``) registers a waiter.
///
/// The number is an atomic word, so that an acknowledgement (taken under the
/// connection's lock) takes no second lock unless a receipt waits: the
/// acknowledgement raises the number and then reads how many wait, a waiter
/// counts itself and then reads the number (both sequentially consistent), so
/// one of the two always sees the other and no waiter is left behind. The
/// end of the session is a bit of the same word: an acknowledgement that comes
/// after it moves nothing, as when both were under one lock.
///
/// A ledger lives as long as its session: it moves with the session from link
/// to link (and, on a server, from connection to connection), and fails what
/// was not acknowledged when the session ends.
final class DeliveryLedger: Sendable {
    private struct State {
        /// Why the session ended, if it did: every number above the acknowledged one failed.
        var failure: MessagingError?
        /// Receipts awaited and not settled yet.
        var waiters: [(sequence: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    }

    private let state = NIOLockedValueBox(State())
    /// The highest number acknowledged, with ``endedBit`` once the session ended.
    private let word = ManagedAtomic<UInt64>(0)
    /// How many waiters are registered in `state` (counted under the lock, read without it).
    private let waiting = ManagedAtomic<Int>(0)

    /// Set in `word` when the session ended (sequence numbers never reach it).
    private static let endedBit: UInt64 = 1 << 63

    /// A ledger for a new session.
    init() {}

    /// The highest sequence number acknowledged (all below it were too).
    var acknowledged: UInt64 { word.load(ordering: .sequentiallyConsistent) & ~Self.endedBit }

    /// The peer acknowledged every action through `sequence`.
    /// - Parameter sequence: the highest number acknowledged.
    func acknowledge(through sequence: UInt64) {
        guard sequence < Self.endedBit else { return }
        var current = word.load(ordering: .sequentiallyConsistent)
        while true {
            // Not beyond what was acknowledged already, or the session ended: nothing moves.
            guard current & Self.endedBit == 0, sequence > current else { return }
            let (exchanged, original) = word.compareExchange(expected: current, desired: sequence, ordering: .sequentiallyConsistent)
            if exchanged { break }
            current = original
        }
        // Read after the number was raised: a waiter that counted itself before sees it, or is seen here.
        guard waiting.load(ordering: .sequentiallyConsistent) > 0 else { return }
        let settled = state.withLockedValue { s -> [CheckedContinuation<Void, any Error>] in
            let through = word.load(ordering: .sequentiallyConsistent) & ~Self.endedBit
            var settled: [CheckedContinuation<Void, any Error>] = []
            s.waiters.removeAll { waiter in
                guard waiter.sequence <= through else { return false }
                settled.append(waiter.continuation)
                return true
            }
            waiting.wrappingDecrement(by: settled.count, ordering: .sequentiallyConsistent)
            return settled
        }
        for continuation in settled { continuation.resume() }
    }

    /// The session ended: every action not acknowledged by now failed with `error`.
    /// - Parameter error: why.
    func fail(_ error: MessagingError) {
        let (delivered, failed) = state.withLockedValue { s -> ([CheckedContinuation<Void, any Error>], [CheckedContinuation<Void, any Error>]) in
            guard s.failure == nil else { return ([], []) }
            s.failure = error
            // From here on no acknowledgement moves the number.
            let through = word.loadThenBitwiseOr(with: Self.endedBit, ordering: .sequentiallyConsistent) & ~Self.endedBit
            // A waiter whose acknowledgement came just before (its settling not done yet) is delivered.
            var delivered: [CheckedContinuation<Void, any Error>] = []
            var failed: [CheckedContinuation<Void, any Error>] = []
            for waiter in s.waiters {
                if waiter.sequence <= through { delivered.append(waiter.continuation) } else { failed.append(waiter.continuation) }
            }
            waiting.wrappingDecrement(by: s.waiters.count, ordering: .sequentiallyConsistent)
            s.waiters = []
            return (delivered, failed)
        }
        for continuation in delivered { continuation.resume() }
        for continuation in failed { continuation.resume(throwing: error) }
    }

    /// Waits until the action numbered `sequence` is acknowledged.
    /// - Parameter sequence: the action's number.
    /// - Throws: ``MessagingError``: the session ended before it was acknowledged.
    func waitForAcknowledgement(of sequence: UInt64) async throws(MessagingError) {
        if sequence <= acknowledged { return }
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLockedValue { s -> Result<Void, MessagingError>? in
                    // Counted before the number is read (see `acknowledge(through:)`).
                    waiting.wrappingIncrement(ordering: .sequentiallyConsistent)
                    let through = word.load(ordering: .sequentiallyConsistent) & ~Self.endedBit
                    if sequence <= through || s.failure != nil {
                        waiting.wrappingDecrement(ordering: .sequentiallyConsistent)
                        return sequence <= through ? .success(()) : .failure(s.failure!)
                    }
                    s.waiters.append((sequence, continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } catch let error as MessagingError {
            throw error
        } catch {
            throw .connectionLost
        }
    }
}
