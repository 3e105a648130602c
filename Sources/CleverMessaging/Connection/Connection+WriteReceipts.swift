extension Connection {
    // MARK: - Write receipts

    /// What waits for a write (``SendReceipt/written()``): resumed with how the write ended.
    typealias WriteWaiter = UnsafeContinuation<Result<Void, MessagingError>, Never>

    /// Waits until write `number` of the connection whose state is `state`
    /// ended; returns at once when it already did.
    /// - Throws: ``MessagingError`` when it was not written (the link dropped, the connection closed).
    static func waitForWrite(_ number: UInt64, in state: AdaptiveLockedBox<State>) async throws(MessagingError) {
        if let outcome = state.withLockedValue({ $0.receipts.outcome(of: number) }) { return try outcome.get() }
        let outcome = await withUnsafeContinuation { (waiter: WriteWaiter) in
            // Resumed here or, once it ended, by whoever reports the write's end (outside the lock).
            if let outcome = state.withLockedValue({ $0.receipts.wait(for: number, waiter) }) { waiter.resume(returning: outcome) }
        }
        try outcome.get()
    }

    /// Resumes the waiters a write's end (or a dropped queue) released.
    static func resume(_ waiters: [(WriteWaiter, WriteReceipts<WriteWaiter>.Outcome)]) {
        for (waiter, outcome) in waiters { waiter.resume(returning: outcome) }
    }

    /// The receipt for frames queued now (they go with the write numbered ``WriteReceipts/queued``).
    func receipt(_ s: inout State) -> SendReceipt.Write {
        SendReceipt.Write(state: state, number: s.receipts.queued)
    }
}
