import NIOCore

/// Where the results of a request asked of many links at once go, one slot
/// per link (a fan-out), without a closure allocated per request.
package protocol RequestResultSink: AnyObject, Sendable {
    /// Delivers the result of the request in slot `position`.
    func deliver(_ position: Int, _ result: Result<JSONValue, MessagingError>)
    /// Delivers the reply to the request in slot `position` of a typed fan-out
    /// as the checked JSON text of its value (decoded later, off the event loop).
    func deliver(_ position: Int, text: ByteBuffer)
}

/// The table of requests waiting for a reply, as a pure state machine.
///
/// It decides; ``Connection`` acts: every mutating call returns what must be
/// completed, failed or written, so the logic is testable without a network.
package struct PendingRequests {
    /// One waiting request.
    ///
    /// What never changes lives in one ``Request`` object, so the table's
    /// storage moves a few words per entry when it grows or removes (it moved
    /// whole 160-byte entries before), and many requests for the same thing
    /// (``RequestFanOut``) share one.
    package struct Entry {
        /// What was asked: fixed when the request is made, shareable between requests.
        package final class Request: Sendable {
            package let requestedValue: String
            /// The arguments as values (empty when ``encoded``).
            package let args: [JSONValue]
            package let kwargs: JSONObject
            /// The arguments as JSON text, encoded straight from an `Encodable`
            /// (then `args` and `kwargs` are empty): kept to write the request
            /// again after a reconnect, without a ``JSONValue`` tree.
            package let encoded: EncodedArguments?
            package let timeout: TimeAmount?
            package let fileDestination: String?
            package let progress: FileTransferProgressHandler?
            /// The `get_response` callback, when the request carries its own
            /// (its entry's completion is then ``Completion/requestCallback``).
            package let callback: ResponseCallback?

            package init(
                requestedValue: String,
                args: [JSONValue],
                kwargs: JSONObject,
                timeout: TimeAmount?,
                fileDestination: String? = nil,
                progress: FileTransferProgressHandler? = nil,
                callback: ResponseCallback? = nil
            ) {
                self.requestedValue = requestedValue
                self.args = args
                self.kwargs = kwargs
                self.encoded = nil
                self.timeout = timeout
                self.fileDestination = fileDestination
                self.progress = progress
                self.callback = callback
            }

            /// Describes a request whose arguments are `arguments` (values, or encoded text).
            package init(requestedValue: String, arguments: ActionArguments, timeout: TimeAmount?) {
                self.requestedValue = requestedValue
                switch arguments {
                case .values(let args, let kwargs):
                    self.args = args
                    self.kwargs = kwargs
                    self.encoded = nil
                case .encoded(let encoded):
                    self.args = []
                    self.kwargs = [:]
                    self.encoded = encoded
                }
                self.timeout = timeout
                self.fileDestination = nil
                self.progress = nil
                self.callback = nil
            }

            /// The same request with another timeout (a fan-out's link's default), without a ``callback``.
            package func with(timeout: TimeAmount?) -> Request {
                Request(requestedValue: requestedValue, arguments: arguments, timeout: timeout)
            }

            /// The arguments, as given.
            package var arguments: ActionArguments {
                encoded.map { .encoded($0) } ?? .values(args: args, kwargs: kwargs)
            }

            /// Appends the request's frame, with id `id`, to `out`.
            /// - Throws: ``FrameEncodingError``.
            @inline(__always)
            package func write(id: String, writer: inout FrameWriter, into out: inout ByteBuffer) throws(FrameEncodingError) {
                if let encoded {
                    try writer.writeRequest(requestedValue, id: .string(id), encoded: encoded, into: &out)
                } else {
                    try writer.writeRequest(requestedValue, id: .string(id), args: args, kwargs: kwargs, into: &out)
                }
            }
        }

        /// What was asked.
        package let request: Request
        /// Who waits.
        package let completion: Completion
        /// When it times out; `nil` never (or no longer: a file download in progress).
        package var deadline: NIODeadline? = nil
        /// Handed to a link at least once.
        package var written: Bool
        /// Sent again after a reconnect (the reference resends once).
        package var resent: Bool = false
        /// Whether a new link may carry it again (false for file acknowledgements,
        /// which are not requests this side sent).
        package var resendable: Bool = true
        /// The order of creation (set by ``PendingRequests/add(id:entry:)``).
        package var sequence = 0
        /// When it was made (set by ``PendingRequests/add(number:entry:expires:now:)``), for its duration.
        package var startedAt: NIODeadline? = nil

        /// Creates an entry.
        package init(
            requestedValue: String,
            args: [JSONValue],
            kwargs: JSONObject,
            completion: Completion,
            timeout: TimeAmount?,
            written: Bool,
            fileDestination: String? = nil,
            progress: FileTransferProgressHandler? = nil
        ) {
            self.request = Request(
                requestedValue: requestedValue,
                args: args,
                kwargs: kwargs,
                timeout: timeout,
                fileDestination: fileDestination,
                progress: progress
            )
            self.completion = completion
            self.written = written
        }

        /// Creates an entry for a request described by `request` (which may be shared).
        package init(request: Request, completion: Completion, written: Bool) {
            self.request = request
            self.completion = completion
            self.written = written
        }

        package var requestedValue: String { request.requestedValue }
        package var args: [JSONValue] { request.args }
        package var kwargs: JSONObject { request.kwargs }
        /// The timeout asked for (reported in ``MessagingError/timedOut(requestedValue:requestID:timeout:)``).
        package var timeout: TimeAmount? { request.timeout }
        /// For a file pull: where the received file goes, and who wants progress.
        package var fileDestination: String? { request.fileDestination }
        package var progress: FileTransferProgressHandler? { request.progress }

        /// Delivers `result`.
        package func finish(_ result: Result<JSONValue, MessagingError>) {
            completion.complete(result, of: request)
        }

        /// Delivers a reply whose value is the checked JSON text `text` (see ``Completion/complete(text:)``).
        package func finish(text: ByteBuffer) {
            completion.complete(text: text, of: request)
        }
    }

    /// What to do with a response frame.
    package enum ResponseAction {
        /// Deliver to this entry.
        case deliver(Entry)
        /// Nobody waits for it (unknown id, or a different requested value): log and drop.
        case unexpected(String)
    }

    /// Entries by request number (the counter value behind the id, see
    /// ``RequestID/format(_:)``), which hashes and compares much
    /// faster than the id text; an id is only ever matched when it is the
    /// exact text of its number. A plain dictionary: replies arrive in any
    /// order and removal must stay O(1) with many thousands in flight; the
    /// order of creation, needed only to resend after a reconnect, is kept in
    /// `sequence`. Numbers are handed out in order and mostly answered in
    /// about that order, which ``RequestTable`` makes cheap.
    private(set) var entries = RequestTable<Entry>()
    private var nextSequence = 0

    /// Counts the entries waiting for a typed reply, for the read loop to read
    /// without the lock (every change to it is made under the connection's lock).
    package let typedReplies: TypedReplies

    /// An empty table.
    /// - Parameter typedReplies: where the entries waiting for a typed reply are counted.
    package init(typedReplies: TypedReplies = TypedReplies()) {
        self.typedReplies = typedReplies
    }

    /// An entry left the table for good: it no longer counts as waiting.
    @inline(__always)
    private func settled(_ entry: borrowing Entry) {
        if entry.completion.isTyped { typedReplies.changeWaiting(by: -1) }
    }

    /// Whether request `number` waits for a typed reply (its reply's value is
    /// then kept as text by the read loop).
    package func wantsReplyText(number: Int) -> Bool {
        entries.withValue(number) { $0.completion.isTyped } ?? false
    }

    package var count: Int { entries.count }

    /// The number the next request gets (its id is ``RequestID/format(_:)`` of it).
    package private(set) var nextNumber = 1

    /// Hands out the next request number.
    package mutating func takeNumber() -> Int {
        defer { nextNumber += 1 }
        return nextNumber
    }

    /// Numbers up to `next` were used elsewhere (a handshake stage's requests): they are not handed out again.
    package mutating func skipNumbers(to next: Int) {
        if next > nextNumber { nextNumber = next }
    }

    /// Deadlines in a priority queue, removed lazily: an item whose entry is gone
    /// (answered, failed) or whose deadline changed is skipped when it surfaces.
    /// One queue per connection instead of one event-loop timer per request:
    /// cancelling NIO timers is linear in their number, which made thousands
    /// of requests in flight quadratic.
    private var deadlines = DeadlineQueue<DeadlineItem>()

    /// Items in the deadline queue, live or stale (for tests).
    package var deadlineItemCount: Int { deadlines.count }

    package struct DeadlineItem: Comparable {
        package var deadline: NIODeadline
        package var sequence: Int
        package var number: Int

        package static func < (a: DeadlineItem, b: DeadlineItem) -> Bool {
            (a.deadline, a.sequence) < (b.deadline, b.sequence)
        }
    }

    /// Adds the entry of the request whose id is `id` (as made by
    /// ``RequestID/format(_:)``).
    package mutating func add(id: String, entry: consuming Entry) {
        guard let number = RequestID.number(id) else {
            preconditionFailure("request id \(id) is not one this library makes")
        }
        add(number: number, entry: entry)
    }

    /// Adds the entry of the request numbered `number` (its id is
    /// `RequestID.format(number)`).
    package mutating func add(number: Int, entry: consuming Entry) {
        let sequence = nextSequence
        nextSequence += 1
        entry.sequence = sequence
        let deadline = entry.deadline
        if entry.completion.isTyped { typedReplies.changeWaiting(by: 1) }
        // Moved into the table, not copied: an entry holds references
        // (its request, its completion) that a copy would retain and release.
        entries.insert(entry, for: number)
        if let deadline {
            dropAnsweredDeadlines()
            deadlines.insert(DeadlineItem(deadline: deadline, sequence: sequence, number: number))
            compactDeadlinesIfNeeded()
        }
    }

    /// Adds the entry of request `number` made at `now`: its deadline is
    /// `now + timeout` when it `expires` and has a timeout, none otherwise.
    /// - Returns: the deadline given, if any.
    @discardableResult
    package mutating func add(number: Int, entry: consuming Entry, expires: Bool, now: NIODeadline) -> NIODeadline? {
        entry.startedAt = now
        let deadline = expires ? entry.timeout.map { now + $0 } : nil
        entry.deadline = deadline
        add(number: number, entry: entry)
        return deadline
    }

    /// Starts the deadline of request `id`, added without one, at `now`: it
    /// expires `timeout` later (a push's acknowledgement waits from its last
    /// byte being with the peer, not from when it was queued).
    /// - Returns: the deadline given, if the request is there and has a timeout.
    @discardableResult
    package mutating func startDeadline(id: String, now: NIODeadline) -> NIODeadline? {
        guard let number = RequestID.number(id), let entry = entries[number], let timeout = entry.timeout else { return nil }
        let deadline = now + timeout
        entries[number]!.deadline = deadline
        dropAnsweredDeadlines()
        deadlines.insert(DeadlineItem(deadline: deadline, sequence: entry.sequence, number: number))
        compactDeadlinesIfNeeded()
        return deadline
    }

    /// Whether the queued item still stands for a live deadline.
    private func isLive(_ item: DeadlineItem) -> Bool {
        // Reads the two fields in place: a copy of the entry would retain and release its references.
        entries.withValue(item.number) { entry in
            entry.sequence == item.sequence && entry.deadline == item.deadline
        } ?? false
    }

    /// The earliest live deadline, dropping stale items on the way.
    package mutating func nextDeadline() -> NIODeadline? {
        while let first = deadlines.min {
            if isLive(first) { return first.deadline }
            deadlines.removeMin()
        }
        return nil
    }

    /// Removes and returns the entries whose deadline is at or before `now`.
    package mutating func expired(now: NIODeadline) -> [(id: String, entry: Entry)] {
        var out: [(String, Entry)] = []
        while let first = deadlines.min, first.deadline <= now {
            deadlines.removeMin()
            if isLive(first), let entry = entries.removeValue(forKey: first.number) {
                settled(entry)
                out.append((RequestID.format(first.number), entry))
            }
        }
        return out
    }

    /// Drops the stale items at the front of the queue. Replies mostly come back in
    /// about the order the requests were made, so the earliest deadline is
    /// mostly an answered request's: dropping those as requests are added keeps
    /// the queue near the number of requests in flight (each item is dropped
    /// once), and ``compactDeadlinesIfNeeded()`` seldom has anything to do.
    private mutating func dropAnsweredDeadlines() {
        while let first = deadlines.min, !isLive(first) {
            deadlines.removeMin()
        }
    }

    /// Rebuilds the queue from its live items when stale ones dominate it (a
    /// long-waiting request holds the top while later ones were answered).
    private mutating func compactDeadlinesIfNeeded() {
        guard deadlines.count > 2 * entries.count + 1024 else { return }
        var queue = DeadlineQueue<DeadlineItem>()
        swap(&queue, &deadlines)
        queue.filter { isLive($0) }
        deadlines = queue
    }

    package mutating func setResendable(id: String, _ resendable: Bool) {
        guard let number = RequestID.number(id) else { return }
        entries[number]?.resendable = resendable
    }

    /// Whether a request with this id waits for its reply.
    package func contains(id: String) -> Bool {
        guard let number = RequestID.number(id) else { return false }
        return entries[number] != nil
    }

    package mutating func remove(id: String) -> Entry? {
        guard let number = RequestID.number(id) else { return nil }
        return remove(number: number)
    }

    /// Removes and returns the entry of the request numbered `number`.
    package mutating func remove(number: Int) -> Entry? {
        guard let entry = entries.removeValue(forKey: number) else { return nil }
        settled(entry)
        return entry
    }

    /// Matches a response by id **and** requested value.
    package mutating func receiveResponse(id: JSONValue?, requestedValue: String?) -> ResponseAction {
        guard case .string(let key)? = id else { return .unexpected("response with request_id \(id.map { "\($0)" } ?? "missing")") }
        // The entry is moved out rather than copied, and put back in the rare
        // case that the response names another value.
        guard let number = RequestID.number(key), let entry = entries.removeValue(forKey: number) else {
            return .unexpected("response to unknown request \(key)")
        }
        guard entry.requestedValue == requestedValue else {
            entries.insert(entry, for: number)
            return .unexpected("response to \(key) names \"\(requestedValue ?? "nothing")\", expected \"\(entry.requestedValue)\"")
        }
        settled(entry)
        return .deliver(entry)
    }

    /// The pull waiting for a file response with this id: where to write it.
    /// Its timer stops: from the first byte on, the transfer runs until it ends or the link drops.
    package mutating func fileDownload(id: JSONValue?) -> (destination: String, progress: FileTransferProgressHandler?)? {
        guard case .string(let key)? = id, let number = RequestID.number(key), let entry = entries[number],
            entry.requestedValue == Frame.fileTransferAction, let destination = entry.fileDestination
        else { return nil }
        entries[number]!.deadline = nil
        return (destination, entry.progress)
    }

    /// A link came up: the requests to write on it, in the order they were made.
    /// Never-written requests always go; written ones go again once when `resend` is on.
    package mutating func linkUp(resend: Bool) -> [(id: String, entry: Entry)] {
        var out: [(String, Entry)] = []
        for (number, var entry) in entries.elements.sorted(by: { $0.value.sequence < $1.value.sequence }) {
            if !entry.resendable {
                continue
            } else if !entry.written {
                entry.written = true
            } else if resend && !entry.resent {
                entry.resent = true
            } else {
                continue
            }
            entries[number] = entry
            out.append((RequestID.format(number), entry))
        }
        return out
    }

    /// A link went down: the requests that fail now. With `keepForResend`,
    /// requests not yet resent stay to be sent again on the next link.
    package mutating func linkDown(keepForResend: Bool) -> [Entry] {
        var failed: [Entry] = []
        var kept = RequestTable<Entry>()
        for (number, entry) in entries.elements {
            if keepForResend && entry.resendable && (!entry.resent || !entry.written) {
                kept.insert(entry, for: number)
            } else {
                settled(entry)
                failed.append(entry)
            }
        }
        entries = kept
        return failed
    }

    /// Removes every entry (the connection closed for good).
    package mutating func removeAll() -> [Entry] {
        let all = entries.elements.map(\.value).sorted { $0.sequence < $1.sequence }
        entries.removeAll()
        typedReplies.clearWaiting()
        return all
    }
}
