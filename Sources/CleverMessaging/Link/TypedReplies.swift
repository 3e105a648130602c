import Atomics

/// What a connection knows about its requests that asked for a typed reply
/// (``Connection/request(_:arguments:as:timeout:)``), read without its lock.
///
/// ``waiting`` lets the read loop skip every look-up while no such request
/// waits: a connection whose callers only take ``JSONValue`` replies reads its
/// replies exactly as before, at the cost of one atomic load per reply. The
/// counts of decoded replies say which way each one went (a test reads them to
/// see that a typed reply was decoded from its text, without a ``JSONValue`` tree).
package final class TypedReplies: Sendable {
    /// The requests waiting for a typed reply (kept by ``PendingRequests``,
    /// changed only under the connection's lock).
    private let waitingCount = ManagedAtomic<Int>(0)
    /// Typed replies decoded straight from their text.
    private let fromTextCount = ManagedAtomic<Int>(0)
    /// Typed replies decoded from a ``JSONValue`` (a reply read before its request
    /// was known to be typed, as in a handshake, or without a `value` member).
    private let fromValueCount = ManagedAtomic<Int>(0)

    /// Creates the counts, all zero.
    package init() {}

    /// Whether any request waits for a typed reply.
    @inline(__always)
    package var anyWaiting: Bool { waitingCount.load(ordering: .acquiring) > 0 }

    /// The number of requests waiting for a typed reply.
    package var waiting: Int { waitingCount.load(ordering: .acquiring) }

    /// Typed replies decoded straight from their text so far.
    package var decodedFromText: Int { fromTextCount.load(ordering: .relaxed) }

    /// Typed replies decoded from a ``JSONValue`` so far.
    package var decodedFromValue: Int { fromValueCount.load(ordering: .relaxed) }

    /// `delta` requests for a typed reply were added (positive) or settled (negative).
    func changeWaiting(by delta: Int) {
        guard delta != 0 else { return }
        waitingCount.wrappingIncrement(by: delta, ordering: .releasing)
    }

    /// No request waits any more.
    func clearWaiting() {
        waitingCount.store(0, ordering: .releasing)
    }

    /// One typed reply was decoded, from its text or from a value.
    func decoded(fromText: Bool) {
        (fromText ? fromTextCount : fromValueCount).wrappingIncrement(ordering: .relaxed)
    }
}
