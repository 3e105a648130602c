import NIOCore

extension Connection {
    // MARK: - Streams

    /// Takes the link for a streamed file body: waits for any other stream,
    /// then writes what is queued so that frames keep their order. Frames sent
    /// meanwhile wait until ``releaseStream()``.
    /// - Returns: the channel to write the stream to.
    func acquireStream() async throws(MessagingError) -> any Channel {
        while true {
            let waiter = eventLoop.makePromise(of: Void.self)
            let taken = try withState { s throws(MessagingError) -> ((any Channel), ByteBuffer, UInt64?)? in
                if s.lifecycle.isClosed { throw .closed }
                guard s.lifecycle.isOpen, let channel = s.channel else { throw .notConnected }
                guard let queued = s.outbound.beginStream() else {
                    s.streamWaiters.append(waiter)
                    return nil
                }
                // What was queued goes ahead of the stream, as one numbered write (its frames' receipts).
                return (channel, queued, queued.readableBytes > 0 ? s.receipts.take() : nil)
            }
            guard let (channel, queued, number) = taken else {
                do {
                    try await waiter.futureResult.get()
                } catch {
                    throw .connectionLost
                }
                continue
            }
            waiter.succeed()
            if let number {
                let write = eventLoop.makePromise(of: Void.self)
                channel.writeAndFlush(queued, promise: write)
                write.futureResult.whenComplete { result in
                    let failure: MessagingError? = if case .failure = result { .connectionLost } else { nil }
                    Self.resume(self.state.withLockedValue { $0.receipts.ended(number, failure: failure) })
                }
            }
            return channel
        }
    }

    /// Gives the link back after a stream; queued frames go out.
    func releaseStream() {
        let (next, flush) = state.withLockedValue { s -> (EventLoopPromise<Void>?, Bool) in
            let flush = s.outbound.endStream()
            let next = s.streamWaiters.isEmpty ? nil : s.streamWaiters.removeFirst()
            return (next, flush)
        }
        if flush { scheduleFlush() }
        next?.succeed()
    }

    /// A region of a streamed body was written: bytes the peer had to read went out.
    func streamProgressed() {
        let now = self.eventLoop.now
        state.withLockedValue { s in s.liveness?.outboundProgress(now: now) }
    }
}
