extension Connection {
    /// Runs `body` (an `async` handler, or the reading of a file a peer asked
    /// for) in a task of its own, counted among the connection's running
    /// handlers. Past ``ConnectionConfiguration/maximumConcurrentHandlers`` the
    /// link is no longer read until half of them have finished, so a peer that
    /// sends faster than its handlers finish is slowed down instead of making
    /// tasks without bound. Call it on the event loop.
    func runHandlerTask(_ body: sending @escaping @isolated(any) () async -> Void) {
        let limit = configuration.maximumConcurrentHandlers
        let pause = state.withLockedValue { s -> ReadGate? in
            s.runningHandlers += 1
            guard s.runningHandlers > limit, !s.pausedForHandlers, let gate = s.readGate else { return nil }
            s.pausedForHandlers = true
            gate.hold(.handlerBacklog, true)
            return gate
        }
        if let pause {
            logger.debug("more than \(limit) handlers running: reading paused", metadata: linkMetadata)
            pause.apply()
        }
        Task {
            await body()
            self.handlerTaskFinished(limit: limit)
        }
    }

    /// One handler task ended: reading starts again when few enough still run.
    private func handlerTaskFinished(limit: Int) {
        let resume = state.withLockedValue { s -> ReadGate? in
            s.runningHandlers -= 1
            guard s.pausedForHandlers, s.runningHandlers <= limit / 2 else { return nil }
            s.pausedForHandlers = false
            s.readGate?.hold(.handlerBacklog, false)
            return s.readGate
        }
        resume?.apply()
    }
}
