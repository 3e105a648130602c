/// The file bodies arriving on one link, as a pure state machine: which
/// receiver takes the body in progress, and which one waits for the digest
/// that follows its body (``ExtensionHeader/sha256Trailer``).
///
/// A binary frame's head names a receiver (or none: the body is read and
/// discarded); its chunks go to that receiver; at its end the receiver
/// finishes. When the head announced a trailer, the very next frame must be
/// the trailer, carrying the digest: it is consumed and handed to the
/// receiver. Any other frame (or another body) in its place leaves the
/// receiver without a digest, so it keeps nothing. A link that ends aborts
/// both.
///
/// Generic over the receiver, so that it is tested without files or a link
/// (the connection uses ``FileReceiver``).
package struct InboundFileTransfer<Receiver> {
    /// Where the body in progress goes (`nil`: none, or discarded).
    package private(set) var receiver: Receiver?
    /// A body is in progress.
    package private(set) var inBody = false
    /// The body in progress announced a trailer.
    private var digestFollows = false
    /// The last body's digest is the next frame.
    package private(set) var trailerPending = false
    /// The receiver waiting for that digest (`nil`: the body was discarded).
    private var trailerReceiver: Receiver?

    /// What to do with a frame that arrived while a trailer was due.
    package enum Settlement {
        /// No trailer was due: handle the frame as usual.
        case notDue
        /// The frame is the trailer: give `digest` to `receiver`; the frame is consumed.
        case trailer(receiver: Receiver?, digest: String?)
        /// The frame is not the trailer: tell `receiver` no digest comes (it keeps
        /// nothing), then handle the frame as usual.
        case missing(receiver: Receiver?)
    }

    /// Nothing in progress.
    package init() {}

    /// A frame other than a body part arrived (a JSON frame, or a new binary head).
    /// - Parameters:
    ///   - isTrailer: whether it is a trailer frame.
    ///   - digest: the digest it carries, if it is one.
    package mutating func frameArrived(isTrailer: Bool, digest: String?) -> Settlement {
        guard trailerPending else { return .notDue }
        trailerPending = false
        let waiting = trailerReceiver
        trailerReceiver = nil
        return isTrailer ? .trailer(receiver: waiting, digest: digest) : .missing(receiver: waiting)
    }

    /// A binary frame's head arrived. Settle a pending trailer first (``frameArrived(isTrailer:digest:)``).
    /// - Parameters:
    ///   - receiver: where its body goes (`nil`: discarded).
    ///   - digestFollows: the head announced a trailer.
    package mutating func bodyBegan(_ receiver: Receiver?, digestFollows: Bool) {
        self.receiver = receiver
        self.digestFollows = digestFollows
        inBody = true
    }

    /// The body ended.
    /// - Returns: the receiver to finish (it then waits for its trailer if one was announced).
    package mutating func bodyEnded() -> Receiver? {
        let finished = receiver
        if digestFollows {
            trailerPending = true
            trailerReceiver = finished
        }
        receiver = nil
        digestFollows = false
        inBody = false
        return finished
    }

    /// The link ended or failed.
    /// - Returns: the receivers to abort (the body in progress, the one waiting for its digest).
    package mutating func linkEnded() -> [Receiver] {
        let all = [receiver, trailerReceiver].compactMap { $0 }
        receiver = nil
        trailerReceiver = nil
        trailerPending = false
        digestFollows = false
        inBody = false
        return all
    }
}
