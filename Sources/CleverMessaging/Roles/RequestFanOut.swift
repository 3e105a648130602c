import NIOConcurrencyHelpers
import NIOCore

/// One request sent to many connections at once, collecting one result per
/// connection (``MessagingServer/requestAll(_:args:kwargs:timeout:connections:)``).
///
/// The connections are grouped by event loop (a ``Group`` each) and every
/// group is started by a chain of tasks on its loop, ``chunk`` requests each:
/// the requests' frames are queued and their connections flushed
/// on the loop they run on, instead of one cross-thread hop, one task and one
/// promise per request, and the first chunk is written before the next one is
/// encoded. All the requests share one description of what is asked, and
/// one encoding of its frame (``RequestFrameTemplates``: each link's copy
/// gets its own id); the requests of a chunk share one deadline, swept by
/// one timer per group (``FanOutDeadlines``) rather than a deadline and a
/// timer per request. Each
/// result goes straight into its group's table (no closure per request), so
/// the two loops of a machine do not contend for one lock; the caller is
/// resumed once, when the last group is complete.
final class RequestFanOut: Sendable {
    /// How many requests one task on an event loop starts.
    static let chunk = 128

    /// How many groups are still missing results, and who waits for them.
    private let waiting: NIOLockedValueBox<(groups: Int, continuation: CheckedContinuation<Void, Never>?)>

    private init(groups: Int) {
        waiting = NIOLockedValueBox((groups, nil))
    }

    /// A group has all of its results. Called once per group.
    func groupCompleted() {
        let continuation = waiting.withLockedValue { w -> CheckedContinuation<Void, Never>? in
            w.groups -= 1
            guard w.groups == 0 else { return nil }
            defer { w.continuation = nil }
            return w.continuation
        }
        continuation?.resume()
    }

    /// Sends `requestedValue` to every connection and waits for every outcome.
    /// - Returns: one result per connection, in the order given.
    static func run(
        _ requestedValue: String,
        args: [JSONValue],
        kwargs: JSONObject,
        timeout: TimeAmount?,
        on connections: [Connection]
    ) async -> [Result<JSONValue, MessagingError>] {
        guard !connections.isEmpty else { return [] }
        // What is asked, shared by every request (one per run of equal default timeouts when none is given).
        let template = PendingRequests.Entry.Request(requestedValue: requestedValue, args: args, kwargs: kwargs, timeout: timeout)
        let groups = await run(template, timeoutGiven: timeout != nil, typed: false, on: connections)
        var results = [Result<JSONValue, MessagingError>](repeating: .failure(.cancelled), count: connections.count)
        for group in groups { group.collect(into: &results) }
        return results
    }

    /// Sends `requestedValue`, its arguments given as values or encoded text,
    /// to every connection and waits for every outcome (see ``run(_:args:kwargs:timeout:on:)``).
    /// - Returns: one result per connection, in the order given.
    static func run(
        _ requestedValue: String,
        arguments: ActionArguments,
        timeout: TimeAmount?,
        on connections: [Connection]
    ) async -> [Result<JSONValue, MessagingError>] {
        if case .values(let args, let kwargs) = arguments {
            return await run(requestedValue, args: args, kwargs: kwargs, timeout: timeout, on: connections)
        }
        guard !connections.isEmpty else { return [] }
        let template = PendingRequests.Entry.Request(requestedValue: requestedValue, arguments: arguments, timeout: timeout)
        let groups = await run(template, timeoutGiven: timeout != nil, typed: false, on: connections)
        var results = [Result<JSONValue, MessagingError>](repeating: .failure(.cancelled), count: connections.count)
        for group in groups { group.collect(into: &results) }
        return results
    }

    /// Sends `requestedValue` to every connection, waits for every outcome,
    /// and decodes each reply into `Reply` straight from its text: the
    /// requests wait as typed ones (their replies' values are kept as checked
    /// text by the read loop), and each is decoded here, by the calling task,
    /// not on an event loop, with its connection's limits.
    /// - Returns: one outcome per connection, in the order given: why no reply
    ///   came (the outer failure), or the reply decoded or why it did not decode.
    static func run<Reply: Decodable>(
        _ requestedValue: String,
        arguments: ActionArguments,
        timeout: TimeAmount?,
        as reply: Reply.Type,
        on connections: [Connection]
    ) async -> [Result<Result<Reply, MessagingError>, MessagingError>] {
        guard !connections.isEmpty else { return [] }
        let template = PendingRequests.Entry.Request(requestedValue: requestedValue, arguments: arguments, timeout: timeout)
        let groups = await run(template, timeoutGiven: timeout != nil, typed: true, on: connections)
        var payloads = [Result<ReplyPayload, MessagingError>](repeating: .failure(.cancelled), count: connections.count)
        for group in groups { group.collect(payloadsInto: &payloads) }
        return payloads.indices.map { index in
            payloads[index].map { (payload) -> Result<Reply, MessagingError> in
                let connection = connections[index]
                do throws(MessagingError) {
                    return .success(
                        try payload.decode(
                            as: Reply.self, name: requestedValue, limits: connection.configuration.codec.json, counts: connection.typedReplies
                        )
                    )
                } catch {
                    return .failure(error)
                }
            }
        }
    }

    /// Starts `template` on every connection, grouped by event loop, and waits
    /// until every group has all of its results.
    /// - Parameters:
    ///   - timeoutGiven: whether `template`'s timeout counts (otherwise each connection's default applies).
    ///   - typed: whether the replies are kept as text for the caller to decode.
    /// - Returns: the groups, complete.
    private static func run(
        _ template: PendingRequests.Entry.Request,
        timeoutGiven: Bool,
        typed: Bool,
        on connections: [Connection]
    ) async -> [Group] {
        // Positions by event loop, in the order given (no connection retained per entry).
        var byLoop: [ObjectIdentifier: (loop: any EventLoop, indices: [Int])] = [:]
        for (index, connection) in connections.enumerated() {
            byLoop[ObjectIdentifier(connection.eventLoop), default: (connection.eventLoop, [])].indices.append(index)
        }
        let fanOut = RequestFanOut(groups: byLoop.count)
        let groups = byLoop.values.map {
            Group(
                fanOut: fanOut, loop: $0.loop, connections: connections, indices: $0.indices, template: template,
                timeoutGiven: timeoutGiven, typed: typed
            )
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                fanOut.waiting.withLockedValue { $0.continuation = continuation }
                for group in groups {
                    group.loop.execute { group.start(from: 0) }
                }
            }
        } onCancel: {
            for group in groups { group.cancel() }
        }
        return groups
    }
}
