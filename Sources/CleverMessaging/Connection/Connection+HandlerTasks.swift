extension Connection {
    /// Runs `body` (an `async` handler, or the reading of a file a peer asked
    /// for) in a task of its own, counted among the connection's running
    /// handlers. Past ``ConnectionConfiguration/maximumConcurrentHandlers`` the
    /// link is no longer read until half of them have finished, so a peer that
    /// sends faster than its handlers finish is slowed down instead of making
    /// tasks without bound. Call it on the event loop.
    ///
    /// The task is a child of the group of ``run()`` while it runs (structured:
    /// `run()` returns only once its handlers have); otherwise, for roles that
    /// do not call `run()`, a task of its own.
    func runHandlerTask(_ body: @escaping @Sendable () async -> Void) {
        let limit = configuration.maximumConcurrentHandlers
        let pause = state.withLockedValue { s -> ReadGate? in
            guard s.handlers.started(canPause: s.readGate != nil), let gate = s.readGate else { return nil }
            gate.hold(.handlerBacklog, true)
            return gate
        }
        if let pause {
            logger.debug("more than \(limit) handlers running: reading paused", metadata: linkMetadata)
            pause.apply()
        }
        let work: HandlerTaskQueue.Work = {
            await body()
            self.handlerTaskFinished()
        }
        if !handlerTasks.submit(work) {
            // Fallback for roles that do not call `run()`: unstructured, as before.
            Task { await work() }
        }
    }

    /// Runs the connection's handler work (`async` handlers, files served to
    /// the peer) as child tasks of one task group, until the connection is
    /// closed for good and every handler has ended.
    ///
    /// Call it from the task that owns the connection (a role's per-connection
    /// child task, or a `ServiceGroup`); cancelling that task cancels the
    /// handlers that run and stops taking new ones (those then run in tasks of
    /// their own, as they do when nobody calls `run()`). A second call while
    /// one runs, or a call after the connection closed, returns at once; so does
    /// a call on a ``MessagingServer``'s connection (the server runs their handlers).
    public func run() async {
        guard ownsHandlerTasks, handlerTasks.start() else { return }
        await withDiscardingTaskGroup { group in
            while let work = await handlerTasks.next() {
                group.addTask { await work() }
            }
        }
        for work in handlerTasks.stop() {
            Task { await work() }
        }
    }

    /// One handler task ended: reading starts again when few enough still run.
    private func handlerTaskFinished() {
        let resume = state.withLockedValue { s -> ReadGate? in
            guard s.handlers.finished() else { return nil }
            s.readGate?.hold(.handlerBacklog, false)
            return s.readGate
        }
        if let resume {
            logger.debug("handlers caught up: reading resumed", metadata: linkMetadata)
            resume.apply()
        }
    }
}
