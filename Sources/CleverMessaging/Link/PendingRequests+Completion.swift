import NIOCore

extension PendingRequests {
    /// How a waiting caller is told the outcome.
    package enum Completion: Sendable {
        /// An `async` caller waiting on a promise.
        case promise(EventLoopPromise<JSONValue>)
        /// An `async` caller suspended on its continuation (no promise, no
        /// callback registered on one): resumed exactly once, by whoever
        /// takes the entry out of the table.
        case continuation(UnsafeContinuation<JSONValue, any Error>)
        /// A callback (the reference's `get_response` form).
        case callback(@Sendable (Result<JSONValue, MessagingError>) -> Void)
        /// The callback kept in the request itself (its ``Entry/Request/callback``),
        /// so that a `get_response` request allocates no closure of its own.
        case requestCallback
        /// A slot of a request asked of many links at once (a fan-out), told
        /// without a closure allocated per request.
        case fanOut(any RequestResultSink, Int)
        /// An `async` caller that decodes the reply into its own type: told
        /// the reply's text when the read loop kept it (see ``TypedReplies``).
        case typed(EventLoopPromise<ReplyPayload>)
        /// An `async` caller that decodes the reply into its own type,
        /// suspended on its continuation (no promise): resumed exactly once,
        /// by whoever takes the entry out of the table, with the reply's text
        /// when the read loop kept it.
        case typedContinuation(UnsafeContinuation<ReplyPayload, any Error>)
        /// A slot of a fan-out whose caller decodes each reply into its own
        /// type: told the reply's text when the read loop kept it.
        case typedFanOut(any RequestResultSink, Int)

        /// Whether the caller decodes the reply itself, from its text.
        @inline(__always)
        package var isTyped: Bool {
            switch self {
            case .typed, .typedContinuation, .typedFanOut: return true
            default: return false
            }
        }

        /// Delivers `result` of `request` (whose own callback ``requestCallback`` calls).
        package func complete(_ result: Result<JSONValue, MessagingError>, of request: Entry.Request) {
            switch self {
            case .promise(let promise): promise.completeWith(result.mapError { $0 as any Error })
            case .continuation(let continuation): continuation.resume(with: result.mapError { $0 as any Error })
            case .callback(let callback): callback(result)
            case .requestCallback: request.callback?.deliver(result, requestedValue: request.requestedValue)
            case .fanOut(let group, let position): group.deliver(position, result)
            case .typed(let promise): promise.completeWith(result.map { .value($0) }.mapError { $0 as any Error })
            case .typedContinuation(let continuation): continuation.resume(with: result.map { .value($0) }.mapError { $0 as any Error })
            case .typedFanOut(let group, let position): group.deliver(position, result)
            }
        }

        /// Delivers a reply whose value is the checked JSON text `text`: as
        /// text to a typed caller, as the value built from it to any other.
        package func complete(text: ByteBuffer, of request: Entry.Request) {
            switch self {
            case .typed(let promise): promise.succeed(.text(text))
            case .typedContinuation(let continuation): continuation.resume(returning: .text(text))
            case .typedFanOut(let group, let position): group.deliver(position, text: text)
            default: complete(.success(ReplyPayload.value(ofCheckedText: text)), of: request)
            }
        }
    }
}
