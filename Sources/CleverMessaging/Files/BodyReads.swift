import NIOCore

/// A link's socket reads while a file body arrives on it: fewer, larger ones,
/// set when the body begins and put back to a link's usual ones when it ends.
///
/// A link normally reads at most 64 KiB at a time (NIO's adaptive default), up
/// to ``SocketOptions/readsPerCycle`` reads per event-loop cycle: right for
/// frames, but a 1 GiB body then costs 16,384 reads, each a system call and a
/// pass through the pipeline and the decoder. While a body arrives the link
/// reads up to `readSize` bytes at a time instead, in fewer reads per cycle, so
/// that a cycle brings about as many bytes as before (the receiver's backlog
/// stays as bounded) in a quarter of the reads.
///
/// Confined to the channel's event loop. A channel that refuses the settings
/// keeps its own (the body is received all the same).
struct BodyReads {
    private let channel: any Channel

    /// Sets `channel` to read up to `readSize` bytes at a time, `readsPerCycle`
    /// times per cycle; returns what puts the usual reads back, or `nil` when the
    /// channel keeps its settings (off its event loop, or without synchronous options).
    static func widen(_ channel: any Channel, readSize: Int, readsPerCycle: UInt) -> BodyReads? {
        guard channel.eventLoop.inEventLoop, let options = channel.syncOptions else { return nil }
        let reads = BodyReads(channel: channel)
        do {
            let wide = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: min(1 << 16, readSize), maximum: readSize)
            try options.setOption(.recvAllocator, value: wide)
            try options.setOption(.maxMessagesPerRead, value: readsPerCycle)
        } catch {
            reads.restore()
            return nil
        }
        return reads
    }

    /// Puts a link's usual reads back (NIO's adaptive default, ``SocketOptions/readsPerCycle``
    /// per cycle); a closed channel keeps whatever it has.
    func restore() {
        guard channel.eventLoop.inEventLoop, let options = channel.syncOptions else { return }
        try? options.setOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator())
        try? options.setOption(.maxMessagesPerRead, value: SocketOptions.readsPerCycle)
    }
}
