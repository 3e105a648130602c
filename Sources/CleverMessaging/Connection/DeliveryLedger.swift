import NIOConcurrencyHelpers

/// How far a session's actions were acknowledged, for the receipts that ask.
///
/// An acknowledged action's receipt holds the session's ledger and the
/// action's sequence number, not a promise of its own: sending an action then
/// costs no allocation for its acknowledgement, and an acknowledgement that
/// settles thousands of actions moves one number. Only a receipt that is
/// awaited (``SendReceipt/delivered()``) registers a waiter.
///
/// A ledger lives as long as its session: it moves with the session from link
/// to link (and, on a server, from connection to connection), and fails what
/// was not acknowledged when the session ends.
final class DeliveryLedger: Sendable {
    private struct State {
        /// Every sequence number up to this one was acknowledged.
        var acknowledged: UInt64 = 0
        /// Why the session ended, if it did: every number above `acknowledged` failed.
        var failure: MessagingError?
        /// Receipts awaited and not settled yet.
        var waiters: [(sequence: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    }

    private let state = NIOLockedValueBox(State())

    /// A ledger for a new session.
    init() {}

    /// The highest sequence number acknowledged (all below it were too).
    var acknowledged: UInt64 { state.withLockedValue { $0.acknowledged } }

    /// The peer acknowledged every action through `sequence`.
    /// - Parameter sequence: the highest number acknowledged.
    func acknowledge(through sequence: UInt64) {
        let settled = state.withLockedValue { s -> [CheckedContinuation<Void, any Error>] in
            guard sequence > s.acknowledged, s.failure == nil else { return [] }
            s.acknowledged = sequence
            guard !s.waiters.isEmpty else { return [] }
            var settled: [CheckedContinuation<Void, any Error>] = []
            s.waiters.removeAll { waiter in
                guard waiter.sequence <= sequence else { return false }
                settled.append(waiter.continuation)
                return true
            }
            return settled
        }
        for continuation in settled { continuation.resume() }
    }

    /// The session ended: every action not acknowledged by now failed with `error`.
    /// - Parameter error: why.
    func fail(_ error: MessagingError) {
        let failed = state.withLockedValue { s -> [CheckedContinuation<Void, any Error>] in
            guard s.failure == nil else { return [] }
            s.failure = error
            defer { s.waiters = [] }
            return s.waiters.map(\.continuation)
        }
        for continuation in failed { continuation.resume(throwing: error) }
    }

    /// Waits until the action numbered `sequence` is acknowledged.
    /// - Parameter sequence: the action's number.
    /// - Throws: ``MessagingError``: the session ended before it was acknowledged.
    func waitForAcknowledgement(of sequence: UInt64) async throws(MessagingError) {
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLockedValue { s -> Result<Void, MessagingError>? in
                    if sequence <= s.acknowledged { return .success(()) }
                    if let failure = s.failure { return .failure(failure) }
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
