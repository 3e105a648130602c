import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Socket options every connection gets: `TCP_NODELAY`, keepalive and
/// `TCP_USER_TIMEOUT` (see ``KeepaliveConfiguration``); and the kernel's
/// counters of a link's bytes (``transportCounters(of:)``).
enum SocketOptions {
    /// Socket reads per event-loop cycle on a link (`maxMessagesPerRead`): a
    /// file body arrives in bursts of up to this many reads (``BodyReads`` sets
    /// fewer, larger ones while a body arrives, and this back after it).
    static let readsPerCycle: UInt = 16

    /// Sets keepalive on a raw socket descriptor, as the reference's `set_keepalive` does.
    /// - Parameters:
    ///   - descriptor: an open TCP socket.
    ///   - configuration: the keepalive settings (default: ``KeepaliveConfiguration/init(enabled:idle:interval:probeCount:userTimeout:)``'s).
    /// - Throws: an `IOError` naming the option that failed, with `errno`.
    static func setKeepalive(
        descriptor: CInt,
        configuration: KeepaliveConfiguration = .init()
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
        #if os(Linux)
        if let milliseconds = configuration.userTimeoutMilliseconds {
            try set(descriptor, CInt(IPPROTO_TCP), CInt(TCP_USER_TIMEOUT), CInt(milliseconds), "TCP_USER_TIMEOUT")
        }
        #endif
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
        ] + (keepalive.userTimeoutMilliseconds.map { [(CInt(TCP_USER_TIMEOUT), $0)] } ?? [])
        for (name, value) in options {
            let option = ChannelOptions.Types.SocketOption(level: tcp, name: NIOBSDSocket.Option(rawValue: name))
            future = future.flatMap { channel.setOption(option, value: SocketOptionValue(value)) }
        }
        #endif
        return future
    }

    /// The kernel's counters of a TCP link's bytes (Linux `TCP_INFO`).
    /// - Parameter channel: the link's channel.
    /// - Returns: a future for the counters; `nil` when the channel has no
    ///   socket (an embedded channel), the system has no `TCP_INFO`, or the
    ///   kernel is too old to count bytes (before Linux 4.19).
    static func transportCounters(of channel: any Channel) -> EventLoopFuture<TransportCounters?> {
        #if os(Linux)
        return tcpInfo(of: channel) { $0.counters }
        #else
        return channel.eventLoop.makeSucceededFuture(nil)
        #endif
    }

    /// The kernel's view of a TCP link for ``Connection/linkStatistics()`` (Linux `TCP_INFO`).
    /// - Parameter channel: the link's channel.
    /// - Returns: a future for the statistics; `nil` when the channel has no
    ///   socket or the system has no `TCP_INFO`.
    static func linkStatistics(of channel: any Channel) -> EventLoopFuture<LinkStatistics?> {
        #if os(Linux)
        return tcpInfo(of: channel) { $0.statistics }
        #else
        return channel.eventLoop.makeSucceededFuture(nil)
        #endif
    }

    #if os(Linux)
    /// Reads Linux's `TCP_INFO` of `channel` and takes `part` of it.
    /// - Returns: a future for the part; `nil` when the channel has no socket
    ///   or the part is not there.
    private static func tcpInfo<Part: Sendable>(of channel: any Channel, _ part: @escaping @Sendable (KernelTCPInfo) -> Part?) -> EventLoopFuture<Part?> {
        guard let provider = channel as? any SocketOptionProvider else { return channel.eventLoop.makeSucceededFuture(nil) }
        let info: EventLoopFuture<KernelTCPInfo> = provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: CInt(IPPROTO_TCP)),
            name: NIOBSDSocket.Option(rawValue: CInt(TCP_INFO))
        )
        return info.map { part($0) }.recover { _ in nil }
    }
    #endif
}

#if os(Linux)
/// The first 224 bytes of Linux's `struct tcp_info` (`linux/tcp.h`), read
/// whole: Glibc's declaration stops before the byte counters. The kernel fills
/// as much as it has and NIO zeroes the rest, so a kernel without a counter
/// leaves it 0.
struct KernelTCPInfo: Sendable {
    private var words: (
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
    ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    /// `tcpi_bytes_acked`, `tcpi_bytes_received`, `tcpi_notsent_bytes`,
    /// `tcpi_bytes_sent` and `tcpi_bytes_retrans`, at their offsets in the
    /// kernel's structure; `nil` when `tcpi_bytes_sent` (Linux 4.19) is not there.
    var counters: TransportCounters? {
        withUnsafeBytes(of: words) { raw -> TransportCounters? in
            let acked = raw.load(fromByteOffset: 120, as: UInt64.self)
            let received = raw.load(fromByteOffset: 128, as: UInt64.self)
            let notSent = raw.load(fromByteOffset: 144, as: UInt32.self)
            let sent = raw.load(fromByteOffset: 200, as: UInt64.self)
            let retransmitted = raw.load(fromByteOffset: 208, as: UInt64.self)
            guard sent > 0 || acked == 0 else { return nil }
            let handed = (sent >= retransmitted ? sent - retransmitted : 0) + UInt64(notSent)
            // `tcpi_last_ack_recv`, in milliseconds.
            let sinceAck = raw.load(fromByteOffset: 56, as: UInt32.self)
            return TransportCounters(
                bytesAcknowledged: acked, bytesReceived: received, bytesHandedToTCP: max(handed, acked),
                sincePeerSegment: .milliseconds(Int64(sinceAck))
            )
        }
    }

    /// `tcpi_rtt`, `tcpi_rttvar` (microseconds), `tcpi_total_retrans` and the
    /// byte counters, at their offsets in the kernel's structure.
    /// `tcpi_bytes_acked` counts the acknowledged SYN as one byte: it is left out.
    var statistics: LinkStatistics {
        withUnsafeBytes(of: words) { raw in
            let acked = raw.load(fromByteOffset: 120, as: UInt64.self)
            return LinkStatistics(
                roundTrip: .microseconds(raw.load(fromByteOffset: 68, as: UInt32.self)),
                roundTripVariation: .microseconds(raw.load(fromByteOffset: 72, as: UInt32.self)),
                bytesSent: acked > 0 ? acked - 1 : 0,
                bytesReceived: raw.load(fromByteOffset: 128, as: UInt64.self),
                retransmissions: raw.load(fromByteOffset: 100, as: UInt32.self)
            )
        }
    }
}
#endif
