import CleverMessaging
import CleverNATS
import NIOConcurrencyHelpers

extension FleetView {
    /// Watches the fleet until cancelled or the client closes: every drone
    /// event (`clever.*.*.*`) goes into ``table`` and to the streams of
    /// ``events()``, and so do the client's disconnects and reconnects (with
    /// how long the gap was).
    ///
    /// It reads `NATSClient.events`: nothing else may read them meanwhile.
    /// - Throws: ``FleetError`` (`nats`) when the subscription could not be made.
    public func run() async throws(FleetError) {
        let subscription: NATSSubscription
        do {
            subscription = try await client.subscribe(to: FleetSubjects.events())
        } catch {
            throw .nats(error)
        }
        // A round trip: the server has the subscription once the flush returns.
        try? await client.flush()
        watching.signal()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await message in subscription {
                        if let event = FleetViewEvent.decode(subject: message.subject, payload: message.payload) {
                            self.publish(event)
                        }
                    }
                } catch {
                    self.logger.debug("fleet events ended", metadata: ["error": "\(error)"])
                }
            }
            group.addTask {
                var gap = FleetConnectionGap()
                for await event in self.client.events {
                    switch event {
                    case .disconnected:
                        if gap.dropped(at: self.uptime()) { self.publish(.disconnected) }
                    case .reconnected:
                        if let length = gap.reconnected(at: self.uptime()) { self.publish(.reconnected(gap: length)) }
                    default:
                        continue
                    }
                }
            }
            // When one ends (cancelled, or the client closed) the other has no more to do.
            await group.next()
            group.cancelAll()
        }
        await subscription.unsubscribe()
        watching.reset()
        // Finished outside the lock: a stream's termination handler takes it.
        let listeners = state.withLockedValue { state in
            defer { state.listeners.removeAll() }
            return Array(state.listeners.values)
        }
        for listener in listeners { listener.finish() }
    }

    /// Waits until ``run()`` has its subscription to the drones' events and the
    /// server has it: an event published after this returns reaches the view.
    public func waitUntilWatching() async {
        await watching.wait()
    }

    /// The events ``run()`` sees from now on; the stream keeps the newest 1,024
    /// for a slow reader and ends when ``run()`` returns or the reader stops.
    /// - Returns: the stream.
    public func events() -> AsyncStream<FleetViewEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: FleetViewEvent.self, bufferingPolicy: .bufferingNewest(1024))
        let id = state.withLockedValue { state in
            state.nextListener += 1
            state.listeners[state.nextListener] = continuation
            return state.nextListener
        }
        let box = state
        continuation.onTermination = { _ in
            _ = box.withLockedValue { $0.listeners.removeValue(forKey: id) }
        }
        return stream
    }

    /// Records `event` in the table and hands it to every listener.
    private func publish(_ event: FleetViewEvent) {
        let now = wallClock()
        let listeners = state.withLockedValue { state in
            state.table.apply(event, at: now)
            return Array(state.listeners.values)
        }
        for listener in listeners { listener.yield(event) }
    }
}

/// How long a connection was down: pure, the instants are its input.
struct FleetConnectionGap: Sendable, Hashable {
    private var since: ContinuousClock.Instant?

    /// The connection dropped at `now`; `false` when it was already down.
    mutating func dropped(at now: ContinuousClock.Instant) -> Bool {
        guard since == nil else { return false }
        since = now
        return true
    }

    /// The connection is back at `now`: how long it was down (`nil` when no drop was seen).
    mutating func reconnected(at now: ContinuousClock.Instant) -> Duration? {
        guard let since else { return nil }
        self.since = nil
        return now - since
    }
}
