import NIOCore
import NIOSSL
import NIOTLS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Sits just above NIOSSL's handler on a TLS link: tells the handshake what
/// the peer showed, and turns file regions into bytes NIOSSL can encrypt.
///
/// - Inbound: after NIOSSL's `TLSUserEvent.handshakeCompleted`, fires a
///   ``TLSPeer`` event (the peer certificate's common name), which
///   ``TLSStage`` passes on.
/// - Outbound: a file body is written as `FileRegion`s (`sendfile(2)` on a
///   plain link), which NIOSSL cannot take: each region is read into a buffer
///   here, on the event loop (a page-cache read of at most one region, 1 MiB),
///   and written as bytes.
final class TLSLinkHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = ByteBuffer

    /// NIOSSL's handler below (same pipeline, same event loop).
    private let ssl: NIOSSLHandler
    /// Whether the id is to be taken from the common name (told in the event).
    private let idFromCommonName: Bool

    init(ssl: NIOSSLHandler, idFromCommonName: Bool) {
        self.ssl = ssl
        self.idFromCommonName = idFromCommonName
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        guard case TLSUserEvent.handshakeCompleted = event else { return }
        let commonName = ssl.peerCertificate?.subjectName.last { $0.type == .commonName }?.value
        context.fireUserInboundEventTriggered(TLSPeer(commonName: commonName, idFromCommonName: idFromCommonName))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .byteBuffer(let buffer):
            context.write(wrapOutboundOut(buffer), promise: promise)
        case .fileRegion(let region):
            do {
                context.write(wrapOutboundOut(try Self.read(region, allocator: context.channel.allocator)), promise: promise)
            } catch {
                promise?.fail(error)
                context.fireErrorCaught(error)
            }
        }
    }

    /// The bytes of a region.
    static func read(_ region: FileRegion, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        var buffer = allocator.buffer(capacity: region.readableBytes)
        var offset = region.readerIndex
        try region.fileHandle.withUnsafeFileDescriptor { fd in
            while offset < region.endIndex {
                let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: region.endIndex - offset) { pointer in
                    let wanted = min(pointer.count, region.endIndex - offset)
                    return max(0, pread(fd, pointer.baseAddress, wanted, off_t(offset)))
                }
                if count == 0 {
                    // The file shrank (or could not be read): the body cannot be completed.
                    throw IOError(errnoCode: errno == 0 ? EIO : errno, reason: "pread")
                }
                offset += count
            }
        }
        return buffer
    }
}

@available(*, unavailable)
extension TLSLinkHandler: Sendable {}

extension TLSOptions {
    /// Puts NIOSSL's handler first in a new link's pipeline, and a
    /// ``TLSLinkHandler`` after it (before the connection's handler).
    /// - Parameters:
    ///   - channel: the new link, on its event loop.
    ///   - host: the host a client connects to (for SNI and the name check).
    /// - Throws: NIOSSL's error when its handler cannot be made.
    func addHandlers(to channel: any Channel, connectingTo host: String?) throws {
        let ssl: NIOSSLHandler
        switch role {
        case .server:
            ssl = NIOSSLServerHandler(context: context)
        case .client:
            // An IP address is not sent as SNI; NIOSSL checks it against the certificate's IP SANs.
            let name = (serverHostname ?? host).flatMap { (try? SocketAddress(ipAddress: $0, port: 0)) == nil ? $0 : nil }
            ssl = try NIOSSLClientHandler(context: context, serverHostname: name)
        }
        try channel.pipeline.syncOperations.addHandler(ssl)
        try channel.pipeline.syncOperations.addHandler(TLSLinkHandler(ssl: ssl, idFromCommonName: idFromCommonName))
    }

    /// A copy of `configuration` whose handshake begins with ``TLSStage``.
    func securing(_ configuration: ConnectionConfiguration) -> ConnectionConfiguration {
        var configuration = configuration
        configuration.handshake.insert(TLSStage.Factory(), at: 0)
        return configuration
    }
}
