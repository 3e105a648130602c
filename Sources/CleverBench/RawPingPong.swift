import NIOCore

/// A ping-pong of a request's and a reply's byte counts through plain NIO
/// channels, one round trip at a time: the physical baseline of a sequential request.
struct RawPingPong {
    let pair: RawLoopback.Pair
    let request: ByteBuffer

    init(request: ByteBuffer, replySize: Int, serverGroup: any EventLoopGroup, clientGroup: any EventLoopGroup) async throws {
        self.request = request
        pair = try await RawLoopback.makePair(
            serverGroup: serverGroup, clientGroup: clientGroup,
            requestSize: request.readableBytes, responseSize: replySize, totalExpected: .max
        )
    }

    /// Sends one request's bytes and waits for one reply's bytes, as a request does
    /// from a task: a hop onto the event loop, and back when the reply is in.
    func roundTrip() async throws {
        let loop = pair.client.eventLoop
        let promise = loop.makePromise(of: Void.self)
        loop.execute { [pair, request] in
            pair.clientHandler.value.expect(1, promise)
            pair.client.writeAndFlush(request, promise: nil)
        }
        try await promise.futureResult.get()
    }

    func close() async {
        await pair.close()
    }
}
