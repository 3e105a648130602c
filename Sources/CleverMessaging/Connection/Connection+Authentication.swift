import NIOCore

extension Connection {
    // MARK: - Authentication and versions

    /// Why the last link's handshake failed (a refused token, an incompatible
    /// version, a deadline...), or `nil` when it did not fail; cleared when a
    /// later link opens.
    public var lastHandshakeFailure: HandshakeFailure? {
        state.withLockedValue { $0.lastHandshakeFailure }
    }

    /// Whether the current link still waits for its peer to prove a token (a
    /// server's ``TokenServerStage`` has not passed): until then a delivery
    /// hello is not answered but goes to the stage, which refuses it, so that
    /// an unauthenticated peer can take no session. Runs on the event loop.
    func awaitsAuthentication() -> Bool {
        guard configuration.handshake.contains(where: { $0 is TokenServerStage.Factory }) else { return false }
        return state.withLockedValue { s in
            guard let run = s.handshake?.value.value else { return false }
            return run.context.result(TokenServerStage.Authenticated.self) == nil
        }
    }

    /// Answers a delivery hello that named an incompatible protocol version
    /// with an error reply of code `incompatible_version`, at once (the link then closes).
    func refuseDeliveryHello(id: JSONValue, version: JSONValue?, _ failure: HandshakeFailure) {
        let message = "client speaks clever-messaging protocol \(version ?? .null), server speaks \(ProtocolVersion.current)"
        var frame = Frame.response(ExtensionHeader.sessionHello, id: id, value: .null)
        frame.content = .json(["value": .null, "error": RemoteError(code: failure.reason.rawValue, message: message).jsonValue])
        let (channel, bytes) = state.withLockedValue { s -> ((any Channel)?, ByteBuffer) in
            var bytes = ByteBuffer()
            try? s.writer.write(frame, into: &bytes)
            return (s.channel, bytes)
        }
        if let channel, bytes.readableBytes > 0 { channel.writeAndFlush(bytes, promise: nil) }
    }
}
