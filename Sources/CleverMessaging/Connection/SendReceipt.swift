import NIOCore

/// Tells whether frames handed to `Connection.enqueue(_:)` reached the socket.
///
/// Frames sent in a burst share one receipt per write, so awaiting a receipt
/// is cheap. A receipt that fails means the frame was not written: the sender
/// learns it, the frame is never dropped in silence.
public struct SendReceipt: Sendable {
    let future: EventLoopFuture<Void>

    /// Waits until the frame has been written to the socket.
    /// - Throws: ``MessagingError`` when it was not (the link dropped, the connection closed).
    public func written() async throws(MessagingError) {
        do {
            try await future.get()
        } catch let error as MessagingError {
            throw error
        } catch {
            throw .connectionLost
        }
    }
}
