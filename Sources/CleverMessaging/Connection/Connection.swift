import Logging
import NIOConcurrencyHelpers
import NIOCore
import OrderedCollections

/// One peer, across reconnects (the reference's `ConnectionManager`).
///
/// A connection sends actions, requests and replies, matches replies to
/// requests, and dispatches what arrives to its ``registry``. It survives a
/// dropped link: a ``MessagingClient`` attaches the next link to the same
/// object, and pending requests are sent again on it (``ConnectionConfiguration/resendRequests``).
///
/// Sending is safe from any thread or task. Frames sent in a burst are
/// encoded into one buffer and written with one flush, so one-way throughput
/// does not pay a system call per frame.
///
/// A new link is held in its handshake (``ConnectionConfiguration/handshake``)
/// until every stage passed; only then is anything dispatched or written for
/// the user. Handlers run as child tasks of ``run()`` when a role calls it.
///
/// Inside, the decisions are taken by pure state machines (in `Link/`:
/// the link's lifecycle, the outbound queue, the pending requests, liveness,
/// the handshake, the handler backlog) kept under one lock; this class and
/// `ConnectionHandler` perform what they decide (writes, timers, pauses).
public final class Connection: Sendable {
    /// The event loop all of this connection's links and timers run on.
    public let eventLoop: any EventLoop
    /// The behaviour settings.
    public let configuration: ConnectionConfiguration
    /// The logger, with this connection's metadata.
    public let logger: Logger
    /// A process-unique number for logs and tables.
    public let number: Int

    private let registryBox: NIOLockedValueBox<HandlerRegistry>
    /// The connection's state: its machines (``LinkLifecycle``, ``OutboundQueue``,
    /// ``PendingRequests``, ``Liveness``) and what the connection needs to act
    /// on their decisions (the link, promises, timers), behind one lock.
    let state: AdaptiveLockedBox<State>
    /// Handler work for the task group of ``run()``, or of the role that owns
    /// the connection (a server takes the work of all its connections).
    let handlerTasks: HandlerTaskQueue
    /// Whether ``handlerTasks`` is this connection's own (`false`: a role's, shared).
    let ownsHandlerTasks: Bool
    /// The request timer (its own object, so that timers need no weak reference to the connection).
    let timeouts: RequestTimeouts
    /// The queue that wakes its links' timers (shared by the connections of a
    /// role on one event loop, see ``LinkTimers``).
    let timerQueue: LinkTimerQueue
    /// What only the event loop reads and writes, without the state's lock.
    let onLoop: NIOLoopBoundBox<LoopOwned>
    /// The connection's side of acknowledged delivery (`nil`: none, ``DeliveryConfiguration/isEnabled`` is off).
    let deliveryRole: DeliveryRole?
    /// Where its links' counts are published (`nil`: no metrics backend, nothing is counted for it).
    package let metrics: LinkMetrics?
    /// Its requests waiting for a typed reply, counted for the read loop (and
    /// the ways their replies were decoded), read without the lock.
    package let typedReplies: TypedReplies
    private static let counter = NIOLockedValueBox(0)

    /// The part of the connection's state that only its event loop touches
    /// (so no lock is shared with the threads that send for it).
    struct LoopOwned {
        /// Whether the peer showed the extensions, as seen on the event loop
        /// (``State/peerSpeaksExtensions`` is the copy other threads read).
        var extensionsSeen = false
        /// Whether the event loop is handling a read batch: flushes asked on
        /// the loop meanwhile wait for its end (``Connection/readBatchEnded(now:bytesRead:)``).
        var readBatchActive = false
    }

    struct State {
        /// The link, from the moment it is up (handshaking) until it is down.
        var channel: (any Channel)?
        var remoteAddress: SocketAddress?
        /// The drone id of the peer, once known (for log metadata).
        var peerID: String?
        var lifecycle = LinkLifecycle()
        var pending = PendingRequests()
        var outbound: OutboundQueue
        /// The numbered writes and who waits for them (the frames' receipts, ``Connection/flushed()``).
        var receipts = WriteReceipts<WriteWaiter>()
        /// Stops and starts reading the current link.
        var readGate: ReadGate?
        /// Handler tasks running (``Connection/runHandlerTask(_:)``), and whether reading stops for them.
        var handlers: HandlerBacklog
        var writer = FrameWriter()
        var peerSpeaksExtensions = false
        var closePromises: [EventLoopPromise<Void>] = []
        var linkWaiters: [EventLoopPromise<Void>] = []
        var streamWaiters: [EventLoopPromise<Void>] = []
        /// The current link's liveness (`nil`: no open link, or pings are off).
        var liveness: Liveness?
        /// The liveness timer of the current link (see ``Connection/armLiveness(now:)``).
        var livenessTimer = TimerSlot()
        /// What the current link's timers reach (cleared when the link goes down).
        var linkTarget: LinkTimerTarget?
        /// The handshake timer of the current link.
        var handshakeTimer = TimerSlot()
        /// What the handshake stages of the last link recorded (``Connection/handshakeResult(_:)``).
        var handshakeResults: [ObjectIdentifier: any Sendable] = [:]
        /// The one timer that fails requests past their deadline (``RequestTimeouts``).
        var requestTimer = TimerSlot()
        /// What the request timers call (made at the first one).
        var requestTimerCallback: RequestTimerCallback?
        /// An arming of the request timer is on its way to the event loop.
        var requestTimerArming = false
        /// The handshake of the current link, while it runs. Its stages are not
        /// `Sendable`: it is only ever reached on the event loop (`NIOLoopBound` checks it).
        /// Kept out of line: it is set only while a link handshakes, and inline it
        /// would make every connection's state a few hundred bytes larger.
        var handshake: OutOfLine<NIOLoopBound<HandshakeRun>>?
        /// Whether the current link opened (its handshake passed).
        var linkOpened = false
        /// Frames that arrived during the handshake and wait for the link to open.
        var heldInbound: [Frame] = []
        /// Why this side is dropping the current link, when it is (liveness, a stalled transfer).
        var dropReason: DropReason?
        /// Why this side dropped the last link that ended (``Connection/lastDropReason``).
        var lastDropReason: DropReason?
        /// Why the last link's handshake failed, if it did (``Connection/lastHandshakeFailure``).
        var lastHandshakeFailure: HandshakeFailure?
        /// The acknowledged-delivery session (a client's from its first agreeing link; a server's from the client's hello).
        var delivery: DeliverySession?
        /// Whether the current link agreed to acknowledged delivery.
        var deliveryActive = false
        /// A server's connection whose session went to the connection of the
        /// client's newer link (``Connection/surrenderDelivery(to:)``): actions
        /// queued here from then on go to that connection, into the session.
        var deliverySurrendered = false
        /// That connection. Held strongly, not weakly (a weak reference would
        /// slow down every retain of it): this connection's link is closed and
        /// the server lets go of it, and the successor refers to nothing here.
        var deliverySuccessor: Connection?
        /// The timer of an owed acknowledgement (``DeliveryReceiver``).
        var ackTimer = TimerSlot()
        /// The link (its number) on which a client offered its session after the link opened.
        var deliveryOfferedOnLink = 0
        /// Frames queued since the last flush, for ``Connection/metrics``.
        var framesQueued = 0
        /// Requests sent since the last flush, for ``Connection/metrics``.
        var requestsQueued = 0
        /// Timed starts scheduled and not run yet (``Connection/answerTimedStart(id:kwargs:)``).
        var timedStarts = TimedStarts()

        init(outbound: OutboundQueue, handlers: HandlerBacklog) {
            self.outbound = outbound
            self.handlers = handlers
        }
    }

    /// Creates a connection that is not linked yet (the roles make one per
    /// peer and give it its links: ``MessagingClient/connection``,
    /// ``MessagingServer/connections``, ``GroundStation/connection(for:)``).
    /// - Parameters:
    ///   - eventLoop: the event loop its links will use.
    ///   - registry: the handlers for what arrives (may be shared).
    ///   - configuration: behaviour settings.
    ///   - logger: where to log.
    ///   - handlerTasks: where handler work goes, when a role runs it for many
    ///     connections (then ``run()`` returns at once); default: the connection's own.
    ///   - delivery: its side of acknowledged delivery (default: none).
    ///   - timers: where its links' deadlines are kept (default: its own).
    ///   - metrics: where its counts go (default: the client's metrics of
    ///     ``ConnectionConfiguration/metrics``, if set; the roles pass their own).
    package init(
        eventLoop: any EventLoop,
        registry: HandlerRegistry,
        configuration: ConnectionConfiguration = .init(),
        logger: Logger = Logger(label: "clever.connection"),
        handlerTasks: HandlerTaskQueue? = nil,
        delivery: DeliveryRole? = nil,
        timers: LinkTimers? = nil,
        metrics: LinkMetrics? = nil
    ) {
        self.metrics = metrics ?? configuration.metrics?.links(.client)
        self.deliveryRole = configuration.delivery.isEnabled ? delivery : nil
        self.handlerTasks = handlerTasks ?? HandlerTaskQueue()
        self.ownsHandlerTasks = handlerTasks == nil
        let number = Self.counter.withLockedValue { $0 += 1; return $0 }
        var logger = logger
        logger[metadataKey: "connection"] = "\(number)"
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.logger = logger
        self.number = number
        self.registryBox = NIOLockedValueBox(registry)
        self.onLoop = .makeBoxSendingValue(LoopOwned(), eventLoop: eventLoop)
        var state = State(outbound: OutboundQueue(
            maximumQueuedBytes: configuration.maximumQueuedBytes,
            maximumReplyBacklog: configuration.maximumReplyBacklog,
            burstWindow: Self.burstWindow
        ), handlers: HandlerBacklog(limit: configuration.maximumConcurrentHandlers))
        state.writer = FrameWriter(marker: configuration.announceExtensions ? ExtensionHeader.capabilities : nil)
        self.typedReplies = state.pending.typedReplies
        let box = AdaptiveLockedBox(state)
        self.state = box
        self.timerQueue = timers?.queue(for: eventLoop) ?? LinkTimerQueue(eventLoop: eventLoop)
        self.timeouts = RequestTimeouts(state: box, timerQueue: timerQueue, logger: logger, metrics: self.metrics)
    }

    deinit {
        // Whatever still waits learns that it will not complete.
        let (unsent, pending, waiters, delivery) = state.withLockedValue { s in
            (s.receipts.abandon(.closed), s.pending.removeAll(), s.linkWaiters + s.closePromises, s.delivery)
        }
        Self.failDelivery(delivery, with: .closed)
        Self.resume(unsent)
        for entry in pending { entry.finish(.failure(.closed)) }
        for waiter in waiters { waiter.fail(MessagingError.closed) }
    }

    // MARK: - Properties

    /// The handlers for what arrives on this connection; replace to give it its own.
    public var registry: HandlerRegistry {
        get { registryBox.withLockedValue { $0 } }
        set { registryBox.withLockedValue { $0 = newValue } }
    }

    /// Whether a link is open (up, and its handshake passed).
    public var isConnected: Bool { state.withLockedValue { $0.lifecycle.isOpen } }

    /// Whether ``close()`` was called.
    public var isClosed: Bool { state.withLockedValue { $0.lifecycle.isClosed } }

    /// The peer's address on the current (or last) link.
    public var remoteAddress: SocketAddress? { state.withLockedValue { $0.remoteAddress } }

    /// How many requests wait for a reply. The link's own liveness ping (see
    /// ``ConnectionConfiguration/pingInterval``), when one is out, is not counted.
    public var pendingRequestCount: Int {
        state.withLockedValue { s in
            let pinging = s.liveness?.ping.map { s.pending.contains(id: $0.id) } ?? false
            return s.pending.count - (pinging ? 1 : 0)
        }
    }

    /// How many entries the table of requests waiting for a reply holds, a liveness ping included.
    package var pendingEntryCount: Int { state.withLockedValue { $0.pending.count } }

    /// How many links this connection has had (1 after the first connect).
    public var linkCount: Int { state.withLockedValue { $0.lifecycle.linkCount } }

    /// Why this side dropped the last link that ended: ``MessagingError/peerUnresponsive(idle:)``
    /// (nothing moved and a ping went unanswered) or ``MessagingError/transferStalled(idle:)``;
    /// `nil` when the last link ended otherwise (the peer or the network closed
    /// it, ``dropLink()``, ``close()``) or none ended yet. Pending requests and
    /// queued frames that the drop fails get the same error.
    public var lastDropReason: MessagingError? { state.withLockedValue { $0.lastDropReason }?.error }

    /// Whether the peer has shown it speaks this library's extensions.
    public var peerSpeaksExtensions: Bool { state.withLockedValue { $0.peerSpeaksExtensions } }

    /// Runs `body` on the locked state, keeping its typed error.
    func withState<T>(_ body: (inout State) throws(MessagingError) -> T) throws(MessagingError) -> T {
        try state.withLockedValue { s in Result { () throws(MessagingError) in try body(&s) } }.get()
    }

}

/// A value kept out of line (one word where it is stored), for a part of a
/// larger struct that is set only for a while: the struct stays small in the
/// common case, at the cost of an allocation while the value is set.
final class OutOfLine<Value: Sendable>: Sendable {
    let value: Value

    init(_ value: Value) {
        self.value = value
    }
}
