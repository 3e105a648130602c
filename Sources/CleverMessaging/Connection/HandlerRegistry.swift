import Atomics
import NIOConcurrencyHelpers

/// Handlers for actions and requests, by name (the reference's `message_callback`
/// and `request_callback`).
///
/// One registry can serve many connections (a server shares one); a connection
/// can also be given its own. Handlers receive the connection the frame came
/// on, the positional `args` and the keyword `kwargs`. Synchronous handlers run
/// on the connection's event loop, in arrival order, and must not block;
/// `async` handlers run in a task of their own each.
public final class HandlerRegistry: Sendable {
    /// A synchronous action handler.
    public typealias ActionHandler = @Sendable (Connection, [JSONValue], JSONObject) throws -> Void
    /// An asynchronous action handler.
    public typealias AsyncActionHandler = @Sendable (Connection, [JSONValue], JSONObject) async throws -> Void
    /// A synchronous request handler; its return value is the reply.
    public typealias RequestHandler = @Sendable (Connection, [JSONValue], JSONObject) throws -> JSONValue
    /// An asynchronous request handler; its return value is the reply.
    public typealias AsyncRequestHandler = @Sendable (Connection, [JSONValue], JSONObject) async throws -> JSONValue

    enum Action {
        case sync(ActionHandler)
        case async(AsyncActionHandler)
        /// A handler that decodes its `kwargs` itself, from their text when the frame kept it.
        case decoding(DecodingActionHandler)

        /// Whether the handler reads the `kwargs` from their text.
        var decodesItsArguments: Bool {
            if case .decoding = self { return true }
            return false
        }
    }

    enum Request {
        case sync(RequestHandler)
        case async(AsyncRequestHandler)
        /// A handler that decodes its `kwargs` and encodes its reply itself.
        case decoding(DecodingRequestHandler)

        /// Whether the handler reads the `kwargs` from their text.
        var decodesItsArguments: Bool {
            if case .decoding = self { return true }
            return false
        }
    }

    /// Called after a pushed file was verified and moved into place.
    public typealias FileReceivedHandler = @Sendable (Connection, String, Int64) -> Void

    private struct Tables {
        var actions: [String: Action] = [:] { didSet { lastAction = nil } }
        var requests: [String: Request] = [:] { didSet { lastRequest = nil } }
        var fileReceived: FileReceivedHandler?
        var anyAction: AnyActionHandler? { didSet { lastAction = nil } }
        var timedStart: TimedStartObserver?
        /// The last action looked up and its handler, so that a run of the
        /// same action skips hashing its name (cleared on every change).
        var lastAction: (name: String, handler: Action)?
        /// The last request looked up and its handler (cleared on every change).
        var lastRequest: (name: String, handler: Request)?
    }

    /// A handler for actions that have no handler of their own; gets the action name too.
    public typealias AnyActionHandler = @Sendable (Connection, String, [JSONValue], JSONObject) throws -> Void

    private let tables = NIOLockedValueBox(Tables())
    /// ``decodingActions`` and ``decodingRequests``: set once such a handler is
    /// registered (and kept when it is removed, which costs only a lookup).
    private let decoding = ManagedAtomic<UInt8>(0)
    private static let decodingActions: UInt8 = 1
    private static let decodingRequests: UInt8 = 2

    /// Creates an empty registry.
    public init() {}

    /// Registers (or replaces) the handler for action `name`.
    /// - Parameters:
    ///   - name: the action name.
    ///   - handler: called with (connection, args, kwargs) on the event loop.
    public func onAction(_ name: String, _ handler: @escaping ActionHandler) {
        tables.withLockedValue { $0.actions[name] = .sync(handler) }
    }

    /// Registers (or replaces) an `async` handler for action `name`.
    /// - Parameters:
    ///   - name: the action name.
    ///   - handler: called with (connection, args, kwargs) in a task of its own.
    public func onAction(_ name: String, _ handler: @escaping AsyncActionHandler) {
        tables.withLockedValue { $0.actions[name] = .async(handler) }
    }

    /// Registers (or replaces) `handler` for action `name`.
    func setAction(_ name: String, _ handler: Action) {
        tables.withLockedValue { $0.actions[name] = handler }
        if handler.decodesItsArguments { decoding.loadThenBitwiseOr(with: Self.decodingActions, ordering: .releasing) }
    }

    /// Registers (or replaces) `handler` for requests of `name`.
    func setRequest(_ name: String, _ handler: Request) {
        tables.withLockedValue { $0.requests[name] = handler }
        if handler.decodesItsArguments { decoding.loadThenBitwiseOr(with: Self.decodingRequests, ordering: .releasing) }
    }

    /// Whether a handler that decodes its own arguments was ever registered
    /// for an action; read without a lock as frames are decoded, so that a
    /// registry without one costs the untyped path no lookup (see ``HandlerLookup``).
    var hasDecodingActionHandlers: Bool { decoding.load(ordering: .acquiring) & Self.decodingActions != 0 }

    /// Whether a handler that decodes its own arguments was ever registered for a request.
    var hasDecodingRequestHandlers: Bool { decoding.load(ordering: .acquiring) & Self.decodingRequests != 0 }

    /// Registers (or replaces) the handler for requests of `name`.
    /// - Parameters:
    ///   - name: the requested value.
    ///   - handler: returns the reply value, or throws (see the error extension).
    public func onRequest(_ name: String, _ handler: @escaping RequestHandler) {
        tables.withLockedValue { $0.requests[name] = .sync(handler) }
    }

    /// Registers (or replaces) an `async` handler for requests of `name`.
    /// - Parameters:
    ///   - name: the requested value.
    ///   - handler: returns the reply value, or throws.
    public func onRequest(_ name: String, _ handler: @escaping AsyncRequestHandler) {
        tables.withLockedValue { $0.requests[name] = .async(handler) }
    }

    /// Registers the handler called after each pushed file was received,
    /// verified and moved into place (path and size).
    /// - Parameter handler: called with (connection, absolute path, bytes).
    public func onFileReceived(_ handler: @escaping FileReceivedHandler) {
        tables.withLockedValue { $0.fileReceived = handler }
    }

    func fileReceived(_ connection: Connection, path: String, bytes: Int64) {
        tables.withLockedValue { $0.fileReceived }?(connection, path, bytes)
    }

    /// Removes the handler for action `name`.
    /// - Parameter name: the action name.
    public func removeAction(_ name: String) {
        _ = tables.withLockedValue { $0.actions.removeValue(forKey: name) }
    }

    /// Removes the handler for requests of `name`.
    /// - Parameter name: the requested value.
    public func removeRequest(_ name: String) {
        _ = tables.withLockedValue { $0.requests.removeValue(forKey: name) }
    }

    /// The names of all registered actions, sorted.
    public var actionNames: [String] { tables.withLockedValue { $0.actions.keys.sorted() } }

    /// The names of all registered requests, sorted.
    public var requestNames: [String] { tables.withLockedValue { $0.requests.keys.sorted() } }

    /// Registers the handler for every action without a handler of its own
    /// (instead of the default: a warning and the frame dropped).
    /// - Parameter handler: called with (connection, action, args, kwargs) on the event loop.
    public func onAnyAction(_ handler: @escaping AnyActionHandler) {
        tables.withLockedValue { $0.anyAction = handler }
    }

    /// Called when a timed start's handler is about to run.
    public typealias TimedStartObserver = @Sendable (Connection, TimedStart) -> Void

    /// Registers the observer of timed starts: called on the event loop just
    /// before a timed start's action handler runs, with when it was to run and
    /// when it runs (on the drone's clock).
    /// - Parameter observer: called with (connection, start).
    public func onTimedStart(_ observer: @escaping TimedStartObserver) {
        tables.withLockedValue { $0.timedStart = observer }
    }

    var timedStartObserver: TimedStartObserver? { tables.withLockedValue { $0.timedStart } }

    func action(_ name: String) -> Action? {
        tables.withLockedValue { t in
            if let last = t.lastAction, last.name == name { return last.handler }
            if let handler = t.actions[name] {
                t.lastAction = (name, handler)
                return handler
            }
            guard let any = t.anyAction else { return nil }
            return .sync { connection, args, kwargs in try any(connection, name, args, kwargs) }
        }
    }

    func request(_ name: String) -> Request? {
        tables.withLockedValue { t in
            if let last = t.lastRequest, last.name == name { return last.handler }
            guard let handler = t.requests[name] else { return nil }
            t.lastRequest = (name, handler)
            return handler
        }
    }
}
