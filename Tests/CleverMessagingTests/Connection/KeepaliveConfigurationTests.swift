import Testing

@testable import CleverMessaging

#if canImport(Glibc)
import Glibc
#endif

/// The kernel's watch and the pings, as configured by default, and how they reach the socket.
@Suite("Keepalive configuration")
struct KeepaliveConfigurationTests {
    @Test("the defaults notice a silent peer in about 5 s, by pings, keepalive or the user timeout alike")
    func defaultsCombine() {
        let configuration = ConnectionConfiguration()
        let keepalive = configuration.keepalive
        #expect(keepalive.idle + keepalive.interval * keepalive.probeCount == .seconds(5))
        #expect(keepalive.userTimeout == .seconds(5))
        #expect(configuration.pingInterval.map { $0 + configuration.pingTimeout } == .seconds(5))
        #expect(configuration.transferStallTimeout == .seconds(10))
        #expect(KeepaliveConfiguration.reference.userTimeout == nil)
        #expect(KeepaliveConfiguration.reference.idle == .seconds(1))
    }

    @Test("the user timeout goes to the socket in whole milliseconds, rounded up")
    func userTimeoutMilliseconds() {
        #expect(KeepaliveConfiguration(userTimeout: .seconds(5)).userTimeoutMilliseconds == 5000)
        #expect(KeepaliveConfiguration(userTimeout: .microseconds(1500)).userTimeoutMilliseconds == 2)
        #expect(KeepaliveConfiguration(userTimeout: .zero).userTimeoutMilliseconds == 1)
        #expect(KeepaliveConfiguration(userTimeout: nil).userTimeoutMilliseconds == nil)
    }

    #if os(Linux)
    @Test("a socket gets TCP_USER_TIMEOUT and the keepalive settings")
    func appliedToSocket() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        try SocketOptions.setKeepalive(descriptor: descriptor, configuration: KeepaliveConfiguration())
        func option(_ name: Int32) -> Int32 {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(descriptor, Int32(IPPROTO_TCP), name, &value, &length)
            return value
        }
        #expect(option(Int32(TCP_USER_TIMEOUT)) == 5000)
        #expect(option(TCP_KEEPIDLE) == 2)
        #expect(option(TCP_KEEPINTVL) == 1)
        #expect(option(TCP_KEEPCNT) == 3)
    }
    #endif
}
