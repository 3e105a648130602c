/// Where a connection is in its life, across links, as a pure state machine.
///
///     idle ──connecting──▶ connecting ──linkUp──▶ handshaking ──passed──▶ open ──close──▶ draining ──linkDown──▶ closed
///      ▲   ◀──connectFailed──┘                        │ failed: close the link            │
///      └───────────────────────linkDown───────────────┴──────────────linkDown─────────────┘ (reconnectable)
///
/// A connection starts ``Phase/idle`` (no link). A client that tries to
/// connect says so (``connecting()``, ``connectFailed()``); a server's
/// connection gets its link at once. A
/// link that comes up is ``Phase/handshaking`` until every handshake stage
/// passed: nothing is dispatched and nothing queued is written meanwhile. Then
/// it is ``Phase/open``. A link that goes down brings the connection back to
/// ``Phase/idle``, where a client attaches the next link (reconnect: pending
/// requests are resent then). ``close()`` writes what is queued and ends the
/// link (``Phase/draining``), and the connection is ``Phase/closed`` for good.
package struct LinkLifecycle: Sendable, Hashable {
    /// The phases.
    package enum Phase: Sendable, Hashable {
        /// No link (not yet, or between two links).
        case idle
        /// No link; a client is trying to make one.
        case connecting
        /// A link is up and its handshake runs.
        case handshaking
        /// The link is open: frames flow both ways.
        case open
        /// Closing: what is queued is written, then the link ends.
        case draining
        /// Closed for good.
        case closed
    }

    /// What the connection must do after an event.
    package enum Action: Sendable, Hashable {
        /// Nothing.
        case none
        /// Run the handshake of the new link.
        case startHandshake
        /// Open the link: write what is queued, start dispatching and watching liveness.
        case open
        /// The connection is closed: close this new link at once.
        case refuseLink
        /// Write what is queued, then close the link.
        case drainAndClose
        /// Close the link now (its handshake failed).
        case closeLink
        /// Fail what waits: the connection closed with no link to drain.
        case failWaiting
        /// The link is gone; keep what the configuration keeps for the next one.
        case linkLost
        /// The link is gone and the connection is closed: fail everything.
        case linkEnded
    }

    /// The current phase.
    package private(set) var phase: Phase = .idle
    /// How many links came up (1 after the first).
    package private(set) var linkCount = 0

    /// A new lifecycle, idle.
    package init() {}

    /// Whether a link is attached (handshaking, open or draining).
    package var isLinked: Bool {
        switch phase {
        case .handshaking, .open, .draining: return true
        case .idle, .connecting, .closed: return false
        }
    }

    /// Whether frames flow (open, or draining what was queued).
    package var isOpen: Bool { phase == .open || phase == .draining }

    /// Whether ``close()`` was called.
    package var isClosed: Bool { phase == .draining || phase == .closed }

    /// A link came up.
    /// - Parameter stages: how many handshake stages it must pass.
    package mutating func linkUp(stages: Int) -> Action {
        switch phase {
        case .closed, .draining:
            return .refuseLink
        case .idle, .connecting, .handshaking, .open:
            linkCount += 1
            if stages == 0 {
                phase = .open
                return .open
            }
            phase = .handshaking
            return .startHandshake
        }
    }

    /// A client starts a connection attempt.
    package mutating func connecting() {
        if phase == .idle { phase = .connecting }
    }

    /// The attempt failed: no link; the client tries again later.
    package mutating func connectFailed() {
        if phase == .connecting { phase = .idle }
    }

    /// Every stage passed.
    package mutating func handshakePassed() -> Action {
        guard phase == .handshaking else { return .none }
        phase = .open
        return .open
    }

    /// A stage failed (or the handshake timed out): the link is closed, and
    /// the connection waits for the next one as after any lost link.
    package mutating func handshakeFailed() -> Action {
        guard phase == .handshaking else { return .none }
        return .closeLink
    }

    /// ``Connection/close()`` was called.
    package mutating func close() -> Action {
        switch phase {
        case .idle, .connecting:
            phase = .closed
            return .failWaiting
        case .handshaking, .open:
            phase = .draining
            return .drainAndClose
        case .draining, .closed:
            return .none
        }
    }

    /// The link went down.
    package mutating func linkDown() -> Action {
        switch phase {
        case .handshaking, .open:
            phase = .idle
            return .linkLost
        case .draining, .closed:
            phase = .closed
            return .linkEnded
        case .idle, .connecting:
            return .none
        }
    }
}
