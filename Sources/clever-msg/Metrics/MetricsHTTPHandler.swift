import NIOCore
import NIOHTTP1

/// Answers one HTTP/1.1 request on a `/metrics` link: `GET` or `HEAD` of
/// `/metrics` gets the Prometheus text that `render` makes; another path gets
/// 404, another method 405, a request with a body 413. Every answer closes
/// the link (a scrape is one request; nothing is kept between scrapes).
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The Prometheus text format's content type.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    /// The most body bytes a request may carry (a scrape carries none).
    static let maximumBodyBytes = 1024

    /// Makes the exposition text (called on the event loop, once per scrape).
    private let render: @Sendable () -> [UInt8]
    /// The request being read: its method and whether it is answered already.
    private var request: (head: HTTPRequestHead, answered: Bool)?
    /// Body bytes of the request so far.
    private var bodyBytes = 0

    init(render: @escaping @Sendable () -> [UInt8]) {
        self.render = render
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard request == nil else { return }
            request = (head, false)
            if head.method != .GET && head.method != .HEAD {
                answer(context: context, status: .methodNotAllowed, body: "only GET and HEAD\n", extra: [("Allow", "GET, HEAD")])
            } else if Self.path(of: head.uri) != "/metrics" {
                answer(context: context, status: .notFound, body: "not found: try /metrics\n")
            }
        case .body(let chunk):
            bodyBytes += chunk.readableBytes
            if bodyBytes > Self.maximumBodyBytes, request?.answered == false {
                answer(context: context, status: .payloadTooLarge, body: "request too large\n")
            }
        case .end:
            guard let request, !request.answered else { return }
            let text = render()
            var buffer = context.channel.allocator.buffer(capacity: text.count)
            buffer.writeBytes(text)
            answer(context: context, status: .ok, body: buffer, contentType: Self.contentType, includeBody: request.head.method != .HEAD)
        }
    }

    /// A malformed request (NIO's error handler answered 400 already), or a
    /// failed link: closed.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// The path of a request target, without its query.
    static func path(of uri: String) -> Substring {
        uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }

    private func answer(
        context: ChannelHandlerContext, status: HTTPResponseStatus, body: String, extra: [(String, String)] = []
    ) {
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        answer(context: context, status: status, body: buffer, contentType: "text/plain; charset=utf-8", extra: extra)
    }

    /// Writes the response and closes the link once it is written.
    private func answer(
        context: ChannelHandlerContext,
        status: HTTPResponseStatus,
        body: ByteBuffer,
        contentType: String,
        extra: [(String, String)] = [],
        includeBody: Bool = true
    ) {
        request?.answered = true
        var headers = HTTPHeaders([
            ("Content-Type", contentType),
            ("Content-Length", "\(body.readableBytes)"),
            ("Connection", "close"),
        ])
        headers.add(contentsOf: extra)
        let head = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if includeBody { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}

@available(*, unavailable)
extension MetricsHTTPHandler: Sendable {}
