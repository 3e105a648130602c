import Logging
import NIOCore

/// The channel handler that binds one link to its ``Connection``: it attaches
/// the link when it comes up, decodes the bytes that arrive and hands every
/// part straight to the connection, and detaches the link when it goes down.
/// A decoding error closes this link only.
///
/// It runs a ``FrameDecoder`` itself instead of sitting behind a
/// `ByteToMessageHandler`: a frame then goes from the read buffer to its
/// handler without being boxed into an `NIOAny` and copied through the
/// pipeline, which is a large share of the per-frame cost at high rates.
package final class ConnectionHandler: ChannelInboundHandler {
    package typealias InboundIn = ByteBuffer

    let connection: Connection
    private var decoder: FrameDecoder
    /// The bytes of an incomplete part, kept between reads.
    private var leftover: ByteBuffer?
    /// The file bodies arriving: which receiver takes the body in progress, which one waits for its digest.
    private var files = InboundFileTransfer<FileReceiver>()
    /// Whether the link is open (its handshake passed): until then frames go
    /// to the handshake (``Connection/receiveWhileHandshaking(_:)``).
    private var linkOpen = false
    /// Whether a read batch is in progress (between the first `channelRead` and `channelReadComplete`).
    private var inReadBatch = false
    /// The bytes the read batch in progress brought.
    private var batchBytes = 0
    /// Cleared when the link fails or goes down: nothing more is decoded.
    private var decoding = true
    /// Whether a frame on this link showed the extension marker (and the
    /// connection was told): later frames need not be looked at for it.
    private var capabilitiesNoted = false

    /// Responses decoded in the current read and not yet handed to the
    /// connection: they go in one batch (one turn of its lock for all), before
    /// any other part and at the end of the read, so that their order with
    /// everything else that arrives is kept.
    private var responses: [Connection.ReceivedResponse] = []

    /// The inbound frame limit (``ConnectionConfiguration/inboundFrameLimit``), if any.
    let frameLimit: FrameRateLimit?
    /// Its budget, made at the first read.
    var frameBucket: TokenBucket?
    /// When the current read began (the frame budget's clock), while a limit is set.
    var readInstant = NIODeadline.uptimeNanoseconds(0)

    /// The capacity of the storage kept for an incomplete part (0 when none is kept).
    var keptCapacity: Int { leftover?.capacity ?? 0 }

    /// What this read batch brought, for the connection's metrics (published
    /// at `channelReadComplete`, never per frame): plain counters, on the event loop.
    private var counted = ReadCounts()
    /// Where ``counted`` is published (`nil`: nothing is counted).
    private let metrics: LinkMetrics?

    /// Told when the link is up and when it is down (a server's links).
    private let observer: LinkObserver?
    /// Where the link stands for ``observer``.
    private var observed = LinkObserver.Phase.waiting

    init(connection: Connection, observer: LinkObserver? = nil) {
        self.connection = connection
        self.observer = observer
        self.decoder = FrameDecoder(configuration: connection.configuration.codec)
        self.decoder.handlers = HandlerLookup(connection)
        self.frameLimit = connection.configuration.inboundFrameLimit
        self.metrics = connection.metrics
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { linkUp(context.channel) }
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        linkDown()
    }

    package func channelActive(context: ChannelHandlerContext) {
        linkUp(context.channel)
        context.fireChannelActive()
    }

    /// Attaches the link to the connection, then tells the observer.
    private func linkUp(_ channel: any Channel) {
        guard observed == .waiting else { return }
        linkOpen = connection.attach(channel)
        observed = .up
        observer?.up(connection)
    }

    /// Tells the observer that the link is down (once).
    private func linkDown() {
        let wasUp = observed == .up
        guard observed != .down else { return }
        observed = .down
        observer?.down(connection, wasUp)
    }

    package func channelInactive(context: ChannelHandlerContext) {
        if decoding {
            decoding = false
            var rest = leftover.take() ?? ByteBuffer()
            do {
                // Everything complete was delivered already: this only names a cut frame.
                while try decoder.decodeLast(buffer: &rest, seenEOF: true) != nil {}
            } catch {
                connection.logger.debug("link ended inside a frame: \(error)", metadata: connection.linkMetadata)
            }
        }
        for receiver in files.linkEnded() { receiver.abort(.connectionLost) }
        publishCounts()
        connection.detach(context.channel)
        linkDown()
        context.fireChannelInactive()
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard decoding else { return }
        var buffer = unwrapInboundIn(data)
        if metrics != nil { counted.bytes &+= buffer.readableBytes }
        batchBytes &+= buffer.readableBytes
        if !inReadBatch {
            inReadBatch = true
            connection.readBatchStarted()
        }
        if let frameLimit { startRead(frameLimit) }
        // The decoder is worked on as a local copy for the whole read and
        // stored back at its end: one exclusive access to the property per
        // read instead of one per frame. A handler that closes the link from
        // within delivery makes `channelInactive` see the state of the read's
        // start, which it only uses to log whether the link ended inside a frame.
        var decoder = self.decoder
        defer {
            self.decoder = decoder
            handOverResponses()
        }
        do {
            if var pending = leftover.take() {
                // Completes the cut part with just the bytes it lacks, so that
                // the rest of the read is decoded where it is, not copied.
                while decoding, pending.readableBytes > 0, buffer.readableBytes > 0 {
                    var missing = buffer.readSlice(length: min(decoder.bytesMissing(in: pending), buffer.readableBytes))!
                    pending.writeBuffer(&missing)
                    while decoding, let part = try decoder.decodeInbound(buffer: &pending) {
                        deliver(part, context: context)
                    }
                }
                if pending.readableBytes > 0 {
                    if decoding { leftover = pending }
                    return
                }
            }
            while decoding, let part = try decoder.decodeInbound(buffer: &buffer) {
                deliver(part, context: context)
            }
        } catch {
            // What arrived whole before the bad frame is delivered before the link closes.
            handOverResponses()
            fail(context: context, error: error)
            return
        }
        guard decoding, buffer.readableBytes > 0 else { return }
        // Keeps a copy of the incomplete part only, not the whole read buffer.
        var kept = context.channel.allocator.buffer(capacity: buffer.readableBytes)
        kept.writeBuffer(&buffer)
        leftover = kept
    }

    /// Hands one decoded part to the connection.
    @inline(__always)
    private func deliver(_ part: consuming InboundPart, context: ChannelHandlerContext) {
        if frameBucket != nil, part.startsFrame, !frameAllowed(context: context) { return }
        if metrics != nil, part.startsFrame { counted.frames &+= 1 }
        switch consume part {
        case .json(let header, let content):
            if files.trailerPending, settleTrailer(header) { return }
            if !capabilitiesNoted, CapabilityStage.shows(header) {
                capabilitiesNoted = true
                connection.noteCapabilities(header)
            }
            if !linkOpen, !handshakeTook(header, content) { return }
            if header.messageType == .response {
                responses.append(Connection.ReceivedResponse(header, content))
                return
            }
            handOverResponses()
            connection.receive(header, content, notingCapabilities: false)
        case .binary(.frame(let frame)):
            // Not produced for binary frames; handled all the same.
            if files.trailerPending, settleTrailer(frame.header) { return }
            handOverResponses()
            connection.receive(frame)
        case .binary(.binaryHead(let header)):
            handOverResponses()
            if files.trailerPending { _ = settleTrailer(nil) }
            if !linkOpen {
                linkOpen = connection.binaryFrameWhileHandshaking()
                guard linkOpen else {
                    // The body is read and discarded: the link closes.
                    files.bodyBegan(nil, digestFollows: false)
                    return
                }
            }
            files.bodyBegan(connection.beginBinary(header, channel: context.channel), digestFollows: header.extra[ExtensionHeader.sha256Trailer] != nil)
        case .binary(.binaryBody(let chunk)):
            if metrics != nil { counted.fileBytes &+= chunk.readableBytes }
            files.receiver?.write(chunk)
        case .binary(.binaryEnd):
            files.bodyEnded()?.finish()
        }
    }

    /// A JSON frame on a link not seen open yet: the handshake takes it, or
    /// (the link is open by now) it is delivered as usual.
    /// - Returns: whether to deliver it.
    private func handshakeTook(_ header: FrameHeader, _ content: borrowing ContentMembers) -> Bool {
        handOverResponses()
        switch connection.receiveWhileHandshaking(Frame(header: header, content: .json(content.jsonObject))) {
        case .deliver:
            linkOpen = true
            return true
        case .taken(let open):
            linkOpen = open
            return false
        }
    }

    /// Hands the responses decoded so far to the connection, in order.
    @inline(__always)
    private func handOverResponses() {
        guard !responses.isEmpty else { return }
        // Taken out of the property while callbacks run (one that made this
        // handler read again would otherwise access it twice at once), and
        // put back emptied, so that its room serves the next read.
        var batch: [Connection.ReceivedResponse] = []
        swap(&batch, &responses)
        connection.receiveResponses(&batch)
        if responses.isEmpty { responses = batch }
    }

    /// Hands the frame after a body that announced ``ExtensionHeader/sha256Trailer``
    /// to that body's receiver; returns whether it was the trailer (and so consumed).
    /// Any other frame (or none) in its place leaves the receiver without a digest,
    /// so it keeps nothing.
    private func settleTrailer(_ header: FrameHeader?) -> Bool {
        let isTrailer = header.map { $0.messageType == .message && $0.action == ExtensionHeader.sha256Trailer } ?? false
        switch files.frameArrived(isTrailer: isTrailer, digest: header.flatMap { FileChecksumAgreement.trailerDigest(in: $0.extra) }) {
        case .notDue:
            return false
        case .trailer(let receiver, let digest):
            receiver?.digestArrived(digest)
            return true
        case .missing(let receiver):
            receiver?.digestArrived(nil)
            return false
        }
    }

    package func channelReadComplete(context: ChannelHandlerContext) {
        if inReadBatch {
            inReadBatch = false
            let bytes = batchBytes
            batchBytes = 0
            connection.readBatchEnded(now: context.eventLoop.now, bytesRead: bytes)
        }
        publishCounts()
        context.fireChannelReadComplete()
    }

    /// Hands what the read batch brought to the metrics, in one update per counter.
    private func publishCounts() {
        guard let metrics, counted.bytes > 0 else { return }
        metrics.received(frames: counted.frames, bytes: counted.bytes, fileBytes: counted.fileBytes)
        counted = ReadCounts()
    }

    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A handler below (TLS) tells its progress: the handshake's stage may wait for it.
        if !linkOpen { connection.eventWhileHandshaking(event) }
        context.fireUserInboundEventTriggered(event)
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // An error before the link opened (a TLS handshake's, say) goes to the handshake's stage, which may name it.
        if !linkOpen { connection.eventWhileHandshaking(error) }
        fail(context: context, error: error)
    }

    /// Stops decoding, drops a file in progress and closes this link only.
    func fail(context: ChannelHandlerContext, error: any Error) {
        decoding = false
        leftover = nil
        for receiver in files.linkEnded() { receiver.abort(.connectionLost) }
        if error is FrameDecodingError {
            // The peer sent what is not this protocol: worth an operator's look.
            connection.logger.warning("closing link after error: \(LogFormat.error(error))", metadata: connection.linkMetadata)
        } else {
            // A reset or a refused write: the network, not something to act on.
            connection.logger.debug("closing link after error: \(LogFormat.error(error))", metadata: connection.linkMetadata)
        }
        context.close(promise: nil)
    }

    /// Adds this handler to a channel's pipeline, with socket options (the
    /// roles' channel initializers call it for every link they make or accept).
    /// - Parameters:
    ///   - channel: a new TCP channel.
    ///   - connection: the connection the link belongs to.
    /// - Returns: a future that succeeds when the options are set and the handler is in place.
    package static func install(on channel: any Channel, connection: Connection) -> EventLoopFuture<Void> {
        install(on: channel, connection: connection, observer: nil)
    }

    /// ``install(on:connection:)``, with an observer of the link (a server's).
    /// - Parameters:
    ///   - channel: a new TCP channel.
    ///   - connection: the connection the link belongs to.
    ///   - observer: told when the link is up and when it is down.
    ///   - tls: when set, NIOSSL's handler goes first in the pipeline (``TLSOptions``).
    ///   - host: the host a client connects to, for TLS's name check.
    /// - Returns: a future that succeeds when the options are set and the handler is in place.
    static func install(
        on channel: any Channel, connection: Connection, observer: LinkObserver?, tls: TLSOptions? = nil, host: String? = nil
    ) -> EventLoopFuture<Void> {
        SocketOptions.apply(to: channel, keepalive: connection.configuration.keepalive).flatMapThrowing {
            try tls?.addHandlers(to: channel, connectingTo: host)
            try channel.pipeline.syncOperations.addHandler(ConnectionHandler(connection: connection, observer: observer))
        }
    }
}

@available(*, unavailable)
extension ConnectionHandler: Sendable {}
