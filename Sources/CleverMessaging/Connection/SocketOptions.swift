import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Socket options every connection gets: `TCP_NODELAY` and keepalive.
enum SocketOptions {
    /// Sets keepalive on a raw socket descriptor, as the reference's `set_keepalive` does.
    /// - Parameters:
    ///   - descriptor: an open TCP socket.
    ///   - configuration: the keepalive settings (default: the reference's 1 s / 3 s / 5).
    /// - Throws: an `IOError` naming the option that failed, with `errno`.
    static func setKeepalive(
        descriptor: CInt,
        configuration: KeepaliveConfiguration = .reference
    ) throws(IOError) {
        try set(descriptor, SOL_SOCKET, SO_KEEPALIVE, configuration.enabled ? 1 : 0, "SO_KEEPALIVE")
        guard configuration.enabled else { return }
        #if os(Linux)
        try set(descriptor, CInt(IPPROTO_TCP), TCP_KEEPIDLE, CInt(configuration.idleSeconds), "TCP_KEEPIDLE")
        #elseif canImport(Darwin)
        try set(descriptor, CInt(IPPROTO_TCP), TCP_KEEPALIVE, CInt(configuration.idleSeconds), "TCP_KEEPALIVE")
        #endif
        try set(descriptor, CInt(IPPROTO_TCP), TCP_KEEPINTVL, CInt(configuration.intervalSeconds), "TCP_KEEPINTVL")
        try set(descriptor, CInt(IPPROTO_TCP), TCP_KEEPCNT, CInt(configuration.probeCount), "TCP_KEEPCNT")
    }

    private static func set(_ fd: CInt, _ level: CInt, _ name: CInt, _ value: CInt, _ label: String) throws(IOError) {
        var v = value
        if setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<CInt>.size)) != 0 {
            throw IOError(errnoCode: errno, reason: "setsockopt(\(label))")
        }
    }

    /// Applies `TCP_NODELAY` and the keepalive settings to a NIO channel.
    /// - Parameters:
    ///   - channel: a connected TCP channel.
    ///   - keepalive: the keepalive settings.
    /// - Returns: a future that succeeds when all options are set.
    static func apply(to channel: any Channel, keepalive: KeepaliveConfiguration) -> EventLoopFuture<Void> {
        var future = channel.setOption(.socketOption(.tcp_nodelay), value: 1)
            .flatMap { channel.setOption(.socketOption(.so_keepalive), value: keepalive.enabled ? 1 : 0) }
        guard keepalive.enabled else { return future }
        #if os(Linux)
        let tcp = NIOBSDSocket.OptionLevel(rawValue: CInt(IPPROTO_TCP))
        let options: [(CInt, Int)] = [
            (TCP_KEEPIDLE, keepalive.idleSeconds),
            (TCP_KEEPINTVL, keepalive.intervalSeconds),
            (TCP_KEEPCNT, keepalive.probeCount),
        ]
        for (name, value) in options {
            let option = ChannelOptions.Types.SocketOption(level: tcp, name: NIOBSDSocket.Option(rawValue: name))
            future = future.flatMap { channel.setOption(option, value: SocketOptionValue(value)) }
        }
        #endif
        return future
    }
}
