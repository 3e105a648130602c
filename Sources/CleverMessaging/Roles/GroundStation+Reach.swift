import NIOCore

/// A drone a call is meant to reach: its id, its link if up, and whether the
/// station knows it (so that a missing link reads as disconnected, not unknown).
struct DroneTarget: Sendable {
    let id: String
    let connection: Connection?
    let known: Bool
}

extension GroundStation {
    /// Runs `attempt` on the links of `targets` that are up, all at once; with
    /// `wait`, also on each known drone without a link as soon as it is
    /// identified again, until `wait` has passed.
    ///
    /// Waiting is woken by the station's own changes (a drone registered),
    /// never by polling; the drones still without a link at the deadline, or
    /// when the calling task is cancelled, are left out.
    ///
    /// With `retryingDroppedLinks`, a drone whose link dropped between the
    /// look-up and the attempt (the attempt failed with
    /// ``MessagingError/connectionLost``, ``MessagingError/closed`` or
    /// ``MessagingError/notConnected``: nothing was sent) is tried again on
    /// its next link, until `wait` has passed. Only for attempts that such a
    /// failure proves were not carried out (a send that was not queued), never
    /// for requests, whose reply alone may have been lost.
    /// - Parameters:
    ///   - targets: the drones.
    ///   - wait: how long to wait for disconnected drones (`nil` or zero: not at all).
    ///   - retryingDroppedLinks: try a drone again on its next link when its link dropped under the attempt.
    ///   - attempt: reaches a batch of links; returns one result per link, in order.
    /// - Returns: one result per target, in order; ``MessagingError/notConnected`` for those not reached.
    func reach<Value: Sendable>(
        _ targets: [DroneTarget],
        waitingUpTo wait: Duration?,
        retryingDroppedLinks: Bool = false,
        attempt: @escaping @Sendable ([Connection]) async -> [Result<Value, MessagingError>]
    ) async -> [Result<Value, MessagingError>] {
        var results = [Result<Value, MessagingError>](repeating: .failure(.notConnected), count: targets.count)
        let linked = targets.indices.filter { targets[$0].connection != nil }
        var waiting = targets.indices.filter { targets[$0].connection == nil && targets[$0].known }
        let deadline = wait.map { ContinuousClock.now.advanced(by: $0) }
        let retryUntil = retryingDroppedLinks ? deadline : nil
        if retryUntil == nil && (deadline == nil || waiting.isEmpty) {
            // Nothing to wait for and nothing to try again: one attempt on the links up, in this task.
            guard !linked.isEmpty else { return results }
            let answers = await attempt(linked.map { targets[$0].connection! })
            for (position, result) in zip(linked, answers) { results[position] = result }
            return results
        }
        // Runs `attempt` on a batch; with `retryUntil`, a drone whose link dropped under it goes again on its next link.
        let attemptBatch: @Sendable ([(position: Int, id: String, connection: Connection)]) async -> [(position: Int, result: Result<Value, MessagingError>)] = {
            [self] batch in
            var done: [(position: Int, result: Result<Value, MessagingError>)] = []
            var pending = batch
            while !pending.isEmpty {
                var retry: [(position: Int, id: String, connection: Connection)] = []
                for (item, result) in zip(pending, await attempt(pending.map(\.connection))) {
                    if case .failure(let error) = result, let retryUntil, Self.droppedUnder(error) {
                        let remaining = ContinuousClock.now.duration(to: retryUntil)
                        if remaining > .zero, let next = await waitForNewLink(of: item.id, replacing: item.connection, timeout: remaining) {
                            retry.append((item.position, item.id, next))
                            continue
                        }
                    }
                    done.append((item.position, result))
                }
                pending = retry
            }
            return done
        }
        await withTaskGroup(of: [(position: Int, result: Result<Value, MessagingError>)].self) { group in
            if !linked.isEmpty {
                let batch = linked.compactMap { position in targets[position].connection.map { (position, targets[position].id, $0) } }
                group.addTask { await attemptBatch(batch) }
            }
            while let deadline, !waiting.isEmpty {
                let remaining = ContinuousClock.now.duration(to: deadline)
                guard remaining > .zero else { break }
                let ids = waiting.map { targets[$0].id }
                guard await waitForLink(amongAnyOf: ids, timeout: remaining) else { break }
                // Every drone of the batch that is back, at once; the others wait on.
                var back: [(position: Int, connection: Connection)] = []
                var still: [Int] = []
                for (position, target) in zip(waiting, self.targets(ids)) {
                    if let connection = target.connection { back.append((position, connection)) } else { still.append(position) }
                }
                waiting = still
                guard !back.isEmpty else { continue }
                let batch = back.map { ($0.position, targets[$0.position].id, $0.connection) }
                group.addTask { await attemptBatch(batch) }
            }
            for await batch in group {
                for (position, result) in batch { results[position] = result }
            }
        }
        return results
    }

    /// Whether an attempt's failure means the drone's link dropped under it
    /// before anything was sent (see ``reach(_:waitingUpTo:retryingDroppedLinks:attempt:)``).
    static func droppedUnder(_ error: MessagingError) -> Bool {
        switch error {
        case .connectionLost, .closed, .notConnected: return true
        default: return false
        }
    }

    /// The elements of a call's results: each target with its result and, for
    /// one not reached, why (a missing link reads as disconnected or unknown).
    static func elements<Value>(_ targets: [DroneTarget], _ results: [Result<Value, MessagingError>]) -> [DroneResults<Value>.Element] {
        zip(targets, results).map { target, result in
            var reason: DroneSkipReason?
            if case .failure(let error) = result { reason = DroneSkipReason(error, known: target.known) }
            return DroneResults<Value>.Element(droneID: target.id, result: result, skipReason: reason)
        }
    }

    /// `elements` sorted by drone id (for a call over every drone, asked in table order).
    static func sortedByID<Value>(_ elements: [DroneResults<Value>.Element]) -> [DroneResults<Value>.Element] {
        // Sorted through indices, the ids read once: each element is copied once, into its sorted place.
        let ids = elements.map(\.droneID)
        return ids.indices.sorted { ids[$0] < ids[$1] }.map { elements[$0] }
    }

    /// Queues `bytes`, the encoded `action`, on each connection and waits until every frame is written
    /// (a connection with acknowledged delivery numbers its own copy of the action, and
    /// one whose link dropped first keeps it in the drone's session for the next link).
    /// - Returns: one result per connection, in order: the receipt, or why the frame was not written
    ///   (nor kept for the drone's next link).
    func write(
        _ bytes: ByteBuffer, action: (name: String, arguments: ActionArguments), to connections: [Connection]
    ) async -> [Result<SendReceipt, MessagingError>] {
        var results = server.enqueue(bytes, on: connections, action: action).map(\.result)
        // Every frame is on its way: waiting for them in turn takes as long as the slowest.
        for index in results.indices {
            guard case .success(let receipt) = results[index] else { continue }
            do throws(MessagingError) {
                try await receipt.written()
            } catch {
                // An acknowledged action whose link dropped before it was written
                // stays in the drone's session and goes again on its next link:
                // it is not lost, and its receipt's `delivered()` tells the outcome.
                if receipt.guarantee == .delivered { continue }
                results[index] = .failure(error)
            }
        }
        return results
    }
}
