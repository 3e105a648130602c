import NIOCore

extension Connection {
    /// What the kernel's TCP knows of the current link: round-trip time,
    /// bytes each way, retransmissions (see ``LinkStatistics``). Over TLS the
    /// bytes are the encrypted ones.
    /// - Returns: the statistics, or `nil` when no link is up, the link is not
    ///   a TCP socket, or the system does not tell (only Linux does).
    public func linkStatistics() async -> LinkStatistics? {
        guard let channel = state.withLockedValue({ $0.channel }) else { return nil }
        return try? await channel.eventLoop.flatSubmit { SocketOptions.linkStatistics(of: channel) }.get()
    }
}
