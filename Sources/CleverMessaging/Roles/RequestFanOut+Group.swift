import NIOConcurrencyHelpers
import NIOCore

extension RequestFanOut {
    /// The requests of a ``RequestFanOut`` whose connections share one event
    /// loop, and their results. Its lock is taken by that loop (starting
    /// requests, replies) and rarely by another thread (a request failed
    /// from elsewhere, cancellation), so it is not contended.
    final class Group: Sendable {
        private struct State {
            /// Results by position in `indices`; only those marked in `filled` are real.
            var results: [Result<JSONValue, MessagingError>]
            var filled: [Bool]
            /// The replies' texts by position, in a typed group (empty otherwise).
            var texts: [ByteBuffer?]
            /// Request numbers by position; -1 until the request has started (or when it could not).
            var numbers: [Int]
            var remaining: Int
            var cancelled = false
            /// The deadlines of the requests started, swept by one timer.
            var deadlines = FanOutDeadlines()
            /// That timer, and when it fires.
            var timer: (task: Scheduled<Void>, at: NIODeadline)?
        }

        let loop: any EventLoop
        private let fanOut: RequestFanOut
        /// What is asked; its timeout counts only when `timeoutGiven`
        /// (otherwise each connection's default applies).
        private let template: PendingRequests.Entry.Request
        private let timeoutGiven: Bool
        /// Whether the caller decodes each reply from its text (the requests wait as typed).
        private let typed: Bool
        /// All the connections of the fan-out (shared, not copied).
        private let connections: [Connection]
        /// This group's positions in `connections`, in order.
        private let indices: [Int]
        private let state: NIOLockedValueBox<State>

        init(
            fanOut: RequestFanOut, loop: any EventLoop, connections: [Connection], indices: [Int],
            template: PendingRequests.Entry.Request, timeoutGiven: Bool, typed: Bool = false
        ) {
            self.fanOut = fanOut
            self.typed = typed
            self.loop = loop
            self.template = template
            self.timeoutGiven = timeoutGiven
            self.connections = connections
            self.indices = indices
            state = NIOLockedValueBox(
                State(
                    results: Array(repeating: .failure(.cancelled), count: indices.count),
                    filled: Array(repeating: false, count: indices.count),
                    texts: typed ? Array(repeating: nil, count: indices.count) : [],
                    numbers: Array(repeating: -1, count: indices.count),
                    remaining: indices.count
                )
            )
        }

        /// Starts the requests from position `first` on, a chunk at a time:
        /// the chunk's connections are flushed before the next chunk is queued
        /// behind them, so writing (and replies) begin while later requests are
        /// encoded. Each frame is copied from `templates` (the request encoded
        /// once per kind of link and id length). The requests of a chunk that
        /// share a timeout share a deadline, which the group's one timer
        /// sweeps (see ``FanOutDeadlines``). Runs on `loop`.
        /// - Parameters:
        ///   - resolved: the template with the default timeout of the
        ///     last connection started, shared while the defaults agree.
        ///   - templates: the frames encoded so far.
        func start(from first: Int, resolved: PendingRequests.Entry.Request? = nil, templates: RequestFrameTemplates = RequestFrameTemplates()) {
            let end = min(first + RequestFanOut.chunk, indices.count)
            var numbers: [(position: Int, number: Int)] = []
            numbers.reserveCapacity(end - first)
            // Which of the chunk's connections need a flush (bit i: position first + i).
            var flushes = (low: UInt64(0), high: UInt64(0))
            var resolved = resolved
            var templates = templates
            // Runs of positions with one timeout, and so one deadline (read once for the chunk).
            let now = NIODeadline.now()
            var runs: [(positions: Range<Int>, deadline: NIODeadline)] = []
            var run: (start: Int, timeout: TimeAmount?) = (first, nil)
            for position in first..<end {
                let connection = connections[indices[position]]
                let request: PendingRequests.Entry.Request
                if timeoutGiven {
                    request = template
                } else if let resolved, resolved.timeout == connection.configuration.defaultRequestTimeout.timeAmount {
                    request = resolved
                } else {
                    request = template.with(timeout: connection.configuration.defaultRequestTimeout.timeAmount)
                    resolved = request
                }
                if position == first || request.timeout != run.timeout {
                    if position > run.start, let timeout = run.timeout { runs.append((run.start..<position, now + timeout)) }
                    run = (position, request.timeout)
                }
                do {
                    // No deadline of its own: the group's sweep expires it.
                    let completion: PendingRequests.Completion = typed ? .typedFanOut(self, position) : .fanOut(self, position)
                    let (number, flush) = try connection.startFanOutRequest(
                        request, completion: completion, expires: false, now: now, templates: &templates
                    )
                    numbers.append((position, number))
                    if flush {
                        let bit = position - first
                        if bit < 64 { flushes.low |= 1 << UInt64(bit) } else { flushes.high |= 1 << UInt64(bit - 64) }
                    }
                } catch {
                    deliver(position, .failure(error))
                }
            }
            // One clock reading for the chunk's flushes: they are written in one go.
            let flushedAt = loop.now
            for bit in 0..<(end - first) where (bit < 64 ? flushes.low >> UInt64(bit) : flushes.high >> UInt64(bit - 64)) & 1 == 1 {
                connections[indices[first + bit]].flushOutbound(now: flushedAt)
            }
            if let timeout = run.timeout { runs.append((run.start..<end, now + timeout)) }
            let (cancelNow, replaced, arm) = state.withLockedValue { s -> (Bool, Scheduled<Void>?, NIODeadline?) in
                for (position, number) in numbers { s.numbers[position] = number }
                guard s.remaining > 0 else { return (s.cancelled, nil, nil) }
                for (positions, deadline) in runs { s.deadlines.add(positions, deadline: deadline) }
                guard let next = s.deadlines.next, s.timer.map({ next < $0.at }) ?? true else { return (s.cancelled, nil, nil) }
                return (s.cancelled, s.timer?.task, next)
            }
            replaced?.cancel()
            if let arm { armSweep(at: arm) }
            if cancelNow {
                for (position, number) in numbers { connections[indices[position]].failRequest(number: number, with: .cancelled) }
            }
            if end < indices.count {
                // Queued after this chunk's writes.
                loop.execute { [resolved, templates] in self.start(from: end, resolved: resolved, templates: templates) }
            }
        }

        /// Schedules the sweep at `deadline` (the earliest deadline waiting). Runs on `loop`.
        private func armSweep(at deadline: NIODeadline) {
            // Held strongly (a weak reference would give the group a side table, and
            // slow down the retain of it that every request's entry makes); the
            // timer is cancelled once every result is in.
            let task = loop.scheduleTask(deadline: deadline) { self.sweep() }
            let stale = state.withLockedValue { s -> Scheduled<Void>? in
                // Every result came in meanwhile: nothing to sweep.
                guard s.remaining > 0 else { return task }
                s.timer = (task, deadline)
                return nil
            }
            stale?.cancel()
        }

        /// Expires the requests whose deadline came and that still wait, as
        /// their own deadlines would (``Connection/expireRequest(number:)``),
        /// and arms the timer for the next deadline. Runs on `loop`.
        private func sweep() {
            let now = NIODeadline.now()
            let (due, next) = state.withLockedValue { s -> ([(position: Int, number: Int)], NIODeadline?) in
                s.timer = nil
                var due: [(position: Int, number: Int)] = []
                for positions in s.deadlines.due(now: now) {
                    for position in positions where !s.filled[position] && s.numbers[position] >= 0 {
                        due.append((position, s.numbers[position]))
                    }
                }
                return (due, s.remaining > 0 ? s.deadlines.next : nil)
            }
            for (position, number) in due { connections[indices[position]].expireRequest(number: number) }
            if let next { armSweep(at: next) }
        }

        /// Records the outcome of the request at `position` (the first one counts).
        func deliver(_ position: Int, _ result: Result<JSONValue, MessagingError>) {
            fill(position) { $0.results[position] = result }
        }

        /// Records the reply to the request at `position` of a typed group as
        /// its value's checked text (the first outcome counts).
        func deliver(_ position: Int, text: ByteBuffer) {
            fill(position) { $0.texts[position] = text }
        }

        /// Records the first outcome of the request at `position` with
        /// `record`; the group's last one completes it.
        @inline(__always)
        private func fill(_ position: Int, _ record: (inout State) -> Void) {
            let (completed, timer) = state.withLockedValue { s -> (Bool, Scheduled<Void>?) in
                guard !s.filled[position] else { return (false, nil) }
                s.filled[position] = true
                record(&s)
                s.remaining -= 1
                guard s.remaining == 0 else { return (false, nil) }
                s.deadlines.removeAll()
                defer { s.timer = nil }
                return (true, s.timer?.task)
            }
            timer?.cancel()
            if completed { fanOut.groupCompleted() }
        }

        /// Fails every started request still waiting with ``MessagingError/cancelled``;
        /// the requests not started yet are failed as they start.
        func cancel() {
            let waiting = state.withLockedValue { s -> [(position: Int, number: Int)] in
                s.cancelled = true
                return s.numbers.indices.compactMap { s.numbers[$0] >= 0 && !s.filled[$0] ? ($0, s.numbers[$0]) : nil }
            }
            for (position, number) in waiting { connections[indices[position]].failRequest(number: number, with: .cancelled) }
        }

        /// Moves the results into their places in `all` (once every one is in).
        func collect(into all: inout [Result<JSONValue, MessagingError>]) {
            let results = state.withLockedValue { s -> [Result<JSONValue, MessagingError>] in
                defer { s.results = [] }
                return s.results
            }
            for (position, result) in results.enumerated() { all[indices[position]] = result }
        }

        /// Moves the outcomes of a typed group into their places in `all` (once
        /// every one is in): a reply's text where it was kept, else its value.
        func collect(payloadsInto all: inout [Result<ReplyPayload, MessagingError>]) {
            let (results, texts) = state.withLockedValue { s -> ([Result<JSONValue, MessagingError>], [ByteBuffer?]) in
                defer {
                    s.results = []
                    s.texts = []
                }
                return (s.results, s.texts)
            }
            for (position, result) in results.enumerated() {
                if position < texts.count, let text = texts[position] {
                    all[indices[position]] = .success(.text(text))
                } else {
                    all[indices[position]] = result.map { .value($0) }
                }
            }
        }
    }
}
