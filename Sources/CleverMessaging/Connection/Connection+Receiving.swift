import Logging
import NIOConcurrencyHelpers
import NIOCore

extension Connection {
    // MARK: - Receiving

    /// Handles one JSON frame from the current link. Runs on the event loop.
    func receive(_ frame: Frame) {
        receive(frame.header, ContentMembers(frame.content.jsonValue))
    }

    /// Handles one JSON frame, given as its header and content members. Runs on the event loop.
    /// - Parameter notingCapabilities: whether to look for the extension marker
    ///   (`false` when the caller already did, as ``ConnectionHandler`` does once per link).
    func receive(_ header: FrameHeader, _ content: consuming ContentMembers, notingCapabilities: Bool = true) {
        if notingCapabilities { noteCapabilities(header) }
        switch header.messageType {
        case .message: receiveAction(header, content)
        case .request: receiveRequest(header, content)
        case .response: receiveResponse(header, content)
        case .other(let type): logger.warning("dropping frame of unknown message-type \"\(type)\"", metadata: linkMetadata)
        }
    }

    /// Remembers that the peer speaks the extensions when its header says so.
    func noteCapabilities(_ header: FrameHeader) {
        // Checked on every frame: once seen, no lock is taken again.
        guard !onLoop.value.extensionsSeen, CapabilityStage.shows(header) else { return }
        onLoop.value.extensionsSeen = true
        let watched = state.withLockedValue { s -> Bool in
            s.peerSpeaksExtensions = true
            s.liveness?.peerAnswersPings = true
            return s.liveness != nil
        }
        // The link's liveness timer starts now that the peer answers pings.
        if watched { armLiveness(now: eventLoop.now) }
        offerDeliveryAfterOpen()
    }

    func receiveAction(_ header: FrameHeader, _ content: consuming ContentMembers) {
        guard let name = header.action else {
            logger.warning("dropping message without action", metadata: linkMetadata)
            return
        }
        if deliveryRole != nil,
           header.deliverySequence != nil || header.deliveryAcknowledgement != nil || !header.extra.isEmpty,
           !acceptDelivered(header) { return }
        // Looked up as the frame was decoded, when the decoder did (see ``FrameDecoder/handlers``).
        guard let typed = content.typedPart else {
            let args = content.args
            let kwargs = content.kwargs
            guard let handler = registry.action(name) else { return noActionHandler(name) }
            return runAction(name, handler, args, kwargs, kwargsText: nil)
        }
        let handler: HandlerRegistry.Action
        if let resolved = typed.resolvedAction {
            guard let resolved else { return noActionHandler(name) }
            handler = resolved
        } else {
            guard let found = registry.action(name) else { return noActionHandler(name) }
            handler = found
        }
        let kwargsText = typed.kwargsText
        let kwargs = kwargsText.map { handler.decodesItsArguments ? [:] : ContentMembers.kwargsObject($0) } ?? content.kwargs
        runAction(name, handler, content.args, kwargs, kwargsText: kwargsText)
    }

    /// Runs `handler` for an action: `kwargsText` is the `kwargs` object's text
    /// when the frame kept it (for a handler that decodes them itself).
    @inline(__always)
    private func runAction(_ name: String, _ handler: HandlerRegistry.Action, _ args: [JSONValue], _ kwargs: JSONObject, kwargsText: ByteBuffer?) {
        switch handler {
        case .sync(let handler):
            do {
                try handler(self, args, kwargs)
            } catch {
                logger.warning("handler for action \"\(name)\" failed: \(error)", metadata: linkMetadata)
            }
        case .async(let handler):
            runHandlerTask {
                do {
                    try await handler(self, args, kwargs)
                } catch {
                    self.logger.warning("handler for action \"\(name)\" failed: \(error)", metadata: self.linkMetadata)
                }
            }
        case .decoding(let handler):
            do {
                try handler.run(self, name, kwargsText.map { .text($0) } ?? .values(kwargs))
            } catch {
                logger.warning("handler for action \"\(name)\" failed: \(error)", metadata: linkMetadata)
            }
        }
    }

    private func noActionHandler(_ name: String) {
        logger.warning("no handler for action \"\(name)\"; dropped", metadata: linkMetadata)
    }

    func receiveRequest(_ header: FrameHeader, _ content: consuming ContentMembers) {
        guard let requestedValue = content.requestedValue?.stringValue, let id = content.requestID else {
            logger.warning("dropping request without requested_value or request_id", metadata: linkMetadata)
            return
        }
        let wantsErrors = CapabilityStage.shows(header)
        let args = content.args
        // Kept as text only for a handler that decodes them; every other reader gets the values.
        let typed = content.typedPart
        let keptText = typed?.kwargsText
        let kwargsText = typed?.resolvedRequest?.name == requestedValue ? keptText : nil
        let kwargs = keptText != nil && kwargsText == nil ? ContentMembers.kwargsObject(keptText!) : content.kwargs
        if requestedValue == ExtensionHeader.ping && wantsErrors {
            reply(to: requestedValue, id: id, value: true)
            return
        }
        if isDeliveryHello(header, requestedValue: requestedValue) {
            if let failure = ProtocolVersion.incompatibility(peer: kwargs[ProtocolVersion.key], stage: "delivery") {
                refuseDeliveryHello(id: id, version: kwargs[ProtocolVersion.key], failure)
                failOpenLink(failure)
                return
            }
            answerDeliveryHello(id: id, kwargs: kwargs)
            return
        }
        if wantsErrors && Self.isName(requestedValue, ExtensionHeader.fileCheck) {
            answerFileCheck(id: id, kwargs: kwargs)
            return
        }
        if wantsErrors, requestedValue.utf8.count > 8, answerClockExtension(requestedValue, id: id, kwargs: kwargs) {
            return
        }
        if requestedValue == Frame.fileTransferAction {
            serveFile(id: id, kwargs: kwargs, wantsErrors: wantsErrors)
            return
        }
        let resolved = typed?.resolvedRequest.flatMap { $0.name == requestedValue ? $0.handler : nil }
        guard let handler = resolved ?? registry.request(requestedValue) else {
            // A peer asking what this side does not serve is normal (a drone without `clover_dir`):
            // the peer learns it from the error reply, or (reference peer) its own timeout.
            logger.debug("no handler for request \"\(requestedValue)\"", metadata: linkMetadata)
            if wantsErrors {
                replyError(to: requestedValue, id: id, RemoteError(code: RemoteError.Code.unknownRequest, message: "no handler for \"\(requestedValue)\""))
            }
            return
        }
        switch handler {
        case .sync(let handler):
            do {
                reply(to: requestedValue, id: id, value: try handler(self, args, kwargs))
            } catch {
                handlerFailed(requestedValue, id: id, error, wantsErrors: wantsErrors)
            }
        case .async(let handler):
            runHandlerTask {
                do {
                    self.reply(to: requestedValue, id: id, value: try await handler(self, args, kwargs))
                } catch {
                    self.handlerFailed(requestedValue, id: id, error, wantsErrors: wantsErrors)
                }
            }
        case .decoding(let handler):
            answer(requestedValue, id: id, with: handler, kwargsText.map { .text($0) } ?? .values(kwargs), wantsErrors: wantsErrors)
        }
    }

    /// Whether `name` is `constant`, lengths compared first: most names
    /// differ in length from a long constant, and then cost no string comparison.
    @inline(__always)
    static func isName(_ name: String, _ constant: String) -> Bool {
        name.utf8.count == constant.utf8.count && name == constant
    }

    func handlerFailed(_ requestedValue: String, id: JSONValue, _ error: any Error, wantsErrors: Bool) {
        logger.warning("handler for request \"\(requestedValue)\" failed: \(error)", metadata: linkMetadata)
        if wantsErrors {
            replyError(to: requestedValue, id: id, RemoteError(code: RemoteError.Code.handlerFailed, message: "\(error)"))
        }
    }

    func receiveResponse(_ header: FrameHeader, _ content: consuming ContentMembers) {
        let action = state.withLockedValue {
            $0.pending.receiveResponse(id: header.requestID, requestedValue: header.requestedValue)
        }
        settle(action, value: content.value, valueText: content.valueText, error: content.error, now: metrics == nil ? nil : .now())
    }

    /// What a JSON response says, waiting in a batch for ``receiveResponses(_:)``.
    struct ReceivedResponse {
        /// The header's `request_id`.
        var requestID: JSONValue?
        /// The header's `requested_value`.
        var requestedValue: String?
        /// The content's `value`.
        var value: JSONValue?
        /// The content's `error` (this library's error extension).
        var error: JSONValue?
        /// Where the content's `value` is kept as text, for a request that
        /// asked for a typed reply (one reference, so the batch stays small for the others).
        var typed: TypedContent?

        /// The parts of a response frame that matter, taken from its header and content.
        init(_ header: FrameHeader, _ content: ContentMembers) {
            requestID = header.requestID
            requestedValue = header.requestedValue
            value = content.value
            error = content.error
            typed = content.typedPart
        }
    }

    /// Handles responses from the current link in order, matching them all
    /// under one turn of the lock (a peer answering a burst of requests sends
    /// many per read, and the lock is shared with the threads that send
    /// requests), and leaves `batch` empty. Runs on the event loop.
    /// - Parameter batch: the responses, in the order they arrived.
    func receiveResponses(_ batch: inout [ReceivedResponse]) {
        let actions = state.withLockedValue { s in
            batch.map { s.pending.receiveResponse(id: $0.requestID, requestedValue: $0.requestedValue) }
        }
        // Read once for the batch, and only when request durations are recorded.
        let now: NIODeadline? = metrics == nil ? nil : .now()
        for i in batch.indices {
            settle(actions[i], value: batch[i].value, valueText: batch[i].typed?.valueText, error: batch[i].error, now: now)
        }
        // Room for a usual batch is kept for the next read; a long one's is given back.
        batch.removeAll(keepingCapacity: batch.count <= 64)
    }

    /// Completes the request a response was matched to, or logs why it was dropped.
    /// - Parameters:
    ///   - valueText: the checked text of the value, when the read loop kept it
    ///     for a request that asked for a typed reply (then `value` is a placeholder).
    ///   - now: when the response arrived, to record the request's duration (`nil`: not recorded).
    private func settle(_ action: PendingRequests.ResponseAction, value: JSONValue?, valueText: ByteBuffer?, error: JSONValue?, now: NIODeadline?) {
        switch action {
        case .unexpected(let reason):
            // Mostly a late answer to a request that timed out already.
            logger.debug("unexpected response dropped: \(reason)", metadata: linkMetadata)
        case .deliver(let entry):
            if let now, let metrics, let startedAt = entry.startedAt { metrics.requestAnswered(after: now - startedAt) }
            if let error = RemoteError(error) {
                entry.finish(.failure(.remote(error)))
            } else if let valueText {
                entry.finish(text: valueText)
            } else {
                entry.finish(.success(value ?? .null))
            }
        }
    }
}
