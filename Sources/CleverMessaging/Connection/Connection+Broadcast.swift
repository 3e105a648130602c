import NIOCore

extension Connection {
    /// Queues bytes holding whole encoded frames, like ``enqueueEncoded(_:)``,
    /// but leaves the flush to the caller, so that a broadcast can flush all
    /// the connections of one event loop from one task on it instead of
    /// scheduling one task (and one cross-thread wake-up) per connection.
    /// - Parameter bytes: one or more complete frames.
    /// - Returns: the receipt, and whether the caller must run ``flushOutbound()`` on ``eventLoop``.
    /// - Throws: ``ConnectionError`` when the bytes cannot be queued.
    func enqueueEncodedDeferringFlush(_ bytes: ByteBuffer) throws(ConnectionError) -> (receipt: SendReceipt, needsFlush: Bool) {
        try withState { s throws(ConnectionError) in
            try self.checkCanQueue(&s)
            s.outbound.writeImmutableBuffer(bytes)
            return self.takeReceipt(&s)
        }
    }
}
