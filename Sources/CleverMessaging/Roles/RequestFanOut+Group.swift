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
            /// Request numbers by position; -1 until the request has started (or when it could not).
            var numbers: [Int]
            var remaining: Int
            var cancelled = false
        }

        let loop: any EventLoop
        private let fanOut: RequestFanOut
        /// What is asked; its timeout counts only when `timeoutGiven`
        /// (otherwise each connection's default applies).
        private let template: PendingRequests.Entry.Request
        private let timeoutGiven: Bool
        /// All the connections of the fan-out (shared, not copied).
        private let connections: [Connection]
        /// This group's positions in `connections`, in order.
        private let indices: [Int]
        private let state: NIOLockedValueBox<State>

        init(
            fanOut: RequestFanOut, loop: any EventLoop, connections: [Connection], indices: [Int],
            template: PendingRequests.Entry.Request, timeoutGiven: Bool
        ) {
            self.fanOut = fanOut
            self.loop = loop
            self.template = template
            self.timeoutGiven = timeoutGiven
            self.connections = connections
            self.indices = indices
            state = NIOLockedValueBox(
                State(
                    results: Array(repeating: .failure(.cancelled), count: indices.count),
                    filled: Array(repeating: false, count: indices.count),
                    numbers: Array(repeating: -1, count: indices.count),
                    remaining: indices.count
                )
            )
        }

        /// Starts the requests from position `first` on, a chunk at a time:
        /// the chunk's connections are flushed before the next chunk is queued
        /// behind them, so writing (and replies) begin while later requests are
        /// encoded. Runs on `loop`.
        /// - Parameter resolved: the template with the default timeout of the
        ///   last connection started, shared while the defaults agree.
        func start(from first: Int, resolved: PendingRequests.Entry.Request? = nil) {
            let end = min(first + RequestFanOut.chunk, indices.count)
            var numbers: [(position: Int, number: Int)] = []
            numbers.reserveCapacity(end - first)
            // Which of the chunk's connections need a flush (bit i: position first + i).
            var flushes = (low: UInt64(0), high: UInt64(0))
            var resolved = resolved
            for position in first..<end {
                let connection = connections[indices[position]]
                let request: PendingRequests.Entry.Request
                if timeoutGiven {
                    request = template
                } else if let resolved, resolved.timeout == connection.configuration.defaultRequestTimeout.timeAmount {
                    request = resolved
                } else {
                    request = PendingRequests.Entry.Request(
                        requestedValue: template.requestedValue, args: template.args, kwargs: template.kwargs,
                        timeout: connection.configuration.defaultRequestTimeout.timeAmount
                    )
                    resolved = request
                }
                do {
                    let (number, flush) = try connection.startRequest(request, completion: .fanOut(self, position))
                    numbers.append((position, number))
                    if flush {
                        let bit = position - first
                        if bit < 64 { flushes.low |= 1 << UInt64(bit) } else { flushes.high |= 1 << UInt64(bit - 64) }
                    }
                } catch {
                    deliver(position, .failure(error))
                }
            }
            for bit in 0..<(end - first) where (bit < 64 ? flushes.low >> UInt64(bit) : flushes.high >> UInt64(bit - 64)) & 1 == 1 {
                connections[indices[first + bit]].flushOutbound()
            }
            let cancelNow = state.withLockedValue { s -> Bool in
                for (position, number) in numbers { s.numbers[position] = number }
                return s.cancelled
            }
            if cancelNow {
                for (position, number) in numbers { connections[indices[position]].failRequest(number: number, with: .cancelled) }
            }
            if end < indices.count {
                // Queued after this chunk's writes.
                loop.execute { [resolved] in self.start(from: end, resolved: resolved) }
            }
        }

        /// Records the outcome of the request at `position` (the first one counts).
        func deliver(_ position: Int, _ result: Result<JSONValue, MessagingError>) {
            let completed = state.withLockedValue { s -> Bool in
                guard !s.filled[position] else { return false }
                s.filled[position] = true
                s.results[position] = result
                s.remaining -= 1
                return s.remaining == 0
            }
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
    }
}
