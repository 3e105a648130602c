/// The messages of one subscription, as an `AsyncSequence`.
///
/// The sequence ends when the subscription is unsubscribed (or reaches its
/// maximum), when the client closes, and throws
/// ``NATSError/slowConsumer(subject:limit:)`` after its buffer filled up.
/// Cancelling the task iterating it unsubscribes.
public struct NATSSubscription: AsyncSequence, Sendable {
    /// The element: a received message.
    public typealias Element = NATSMessage

    /// The subscription's id on the connection.
    public let sid: UInt64
    /// The subject (wildcards included) subscribed to.
    public let subject: String
    /// The queue group, when the subscription shares its messages with others of the group.
    public let queueGroup: String?

    private let stream: AsyncThrowingStream<NATSMessage, any Error>
    private let core: NATSConnectionCore

    init(
        sid: UInt64, subject: String, queueGroup: String?,
        stream: AsyncThrowingStream<NATSMessage, any Error>, core: NATSConnectionCore
    ) {
        self.sid = sid
        self.subject = subject
        self.queueGroup = queueGroup
        self.stream = stream
        self.core = core
    }

    /// An iterator over the messages.
    public func makeAsyncIterator() -> AsyncThrowingStream<NATSMessage, any Error>.AsyncIterator {
        stream.makeAsyncIterator()
    }

    /// Unsubscribes now, or once `afterMessages` messages in all have arrived (`UNSUB sid max`).
    /// - Parameter afterMessages: the total number of messages after which it ends; nil ends it now.
    public func unsubscribe(afterMessages: Int? = nil) async {
        let core = self.core
        let sid = self.sid
        if core.eventLoop.inEventLoop {
            core.unsubscribe(sid: sid, after: afterMessages)
        } else {
            try? await core.eventLoop.submit { core.unsubscribe(sid: sid, after: afterMessages) }.get()
        }
    }
}
