import NIOConcurrencyHelpers
import NIOCore

/// One request sent to many connections at once, collecting one result per
/// connection (``MessagingServer/requestAll(_:args:kwargs:timeout:connections:)``).
///
/// The connections are grouped by event loop and every group is started by a
/// chain of tasks on its loop, ``chunk`` requests each: the requests' frames,
/// timers and flushes are queued on the loop they run on, instead of one
/// cross-thread hop, one task and one promise per request, and the first
/// chunk is written before the next one is encoded. Results arrive through callbacks into one
/// locked table; the caller is resumed once, when the last one is in.
final class RequestFanOut: Sendable {
    private struct State {
        var results: [Result<JSONValue, ConnectionError>?]
        var remaining: Int
        var continuation: CheckedContinuation<[Result<JSONValue, ConnectionError>], Never>?
        /// The requests started so far, to cancel them.
        var started: [(connection: Connection, id: String)] = []
        var cancelled = false
    }

    private let state: NIOLockedValueBox<State>
    /// How many requests one task on an event loop starts.
    static let chunk = 128

    private init(count: Int) {
        state = NIOLockedValueBox(State(results: Array(repeating: nil, count: count), remaining: count))
    }

    /// Sends `requestedValue` to every connection and waits for every outcome.
    /// - Returns: one result per connection, in the order given.
    static func run(
        _ requestedValue: String,
        args: [JSONValue],
        kwargs: JSONObject,
        timeout: TimeAmount?,
        on connections: [Connection]
    ) async -> [Result<JSONValue, ConnectionError>] {
        guard !connections.isEmpty else { return [] }
        let fanOut = RequestFanOut(count: connections.count)
        var byLoop: [ObjectIdentifier: (loop: any EventLoop, members: [(index: Int, connection: Connection)])] = [:]
        for (index, connection) in connections.enumerated() {
            byLoop[ObjectIdentifier(connection.eventLoop), default: (connection.eventLoop, [])].members.append((index, connection))
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                fanOut.state.withLockedValue { $0.continuation = continuation }
                for (loop, members) in byLoop.values {
                    loop.execute {
                        fanOut.start(requestedValue, args: args, kwargs: kwargs, timeout: timeout, members: members[...], on: loop)
                    }
                }
            }
        } onCancel: {
            fanOut.cancel()
        }
    }

    /// Starts the requests of one event loop's connections. Runs on that loop.
    private func start(
        _ requestedValue: String,
        args: [JSONValue],
        kwargs: JSONObject,
        timeout: TimeAmount?,
        members: ArraySlice<(index: Int, connection: Connection)>,
        on loop: any EventLoop
    ) {
        // A chunk at a time: the flushes this chunk schedules run before the next
        // chunk starts, so writing (and replies) begin while later requests are encoded.
        let chunk = members.prefix(Self.chunk)
        let rest = members.dropFirst(Self.chunk)
        var started: [(connection: Connection, id: String)] = []
        started.reserveCapacity(chunk.count)
        for (index, connection) in chunk {
            do {
                let id = try connection.startRequest(
                    requestedValue,
                    args: args,
                    kwargs: kwargs,
                    completion: .callback { [self] result in self.finish(index, result) },
                    timeout: timeout
                )
                started.append((connection, id))
            } catch {
                finish(index, .failure(error))
            }
        }
        let cancelNow = state.withLockedValue { s -> Bool in
            s.started.append(contentsOf: started)
            return s.cancelled
        }
        if cancelNow {
            for (connection, id) in started { connection.failRequest(id: id, with: .cancelled) }
        }
        if !rest.isEmpty {
            // Queued after the flushes of this chunk.
            loop.execute { self.start(requestedValue, args: args, kwargs: kwargs, timeout: timeout, members: rest, on: loop) }
        }
    }

    private func finish(_ index: Int, _ result: Result<JSONValue, ConnectionError>) {
        let done = state.withLockedValue { s -> ([Result<JSONValue, ConnectionError>], CheckedContinuation<[Result<JSONValue, ConnectionError>], Never>)? in
            guard case .none = s.results[index] else { return nil }
            s.results[index] = result
            s.remaining -= 1
            guard s.remaining == 0, let continuation = s.continuation else { return nil }
            s.continuation = nil
            s.started = []
            // Every slot is filled once `remaining` reaches 0.
            return (s.results.map { $0! }, continuation)
        }
        if let (results, continuation) = done { continuation.resume(returning: results) }
    }

    private func cancel() {
        let started = state.withLockedValue { s -> [(connection: Connection, id: String)] in
            s.cancelled = true
            return s.started
        }
        for (connection, id) in started { connection.failRequest(id: id, with: .cancelled) }
    }
}
