import NIOConcurrencyHelpers

/// Tasks waiting until a condition on a role's state holds (so many drones
/// connected, so many links up); the role calls ``changed()`` after each change
/// of that state, and the waiters whose condition now holds resume. No polling.
struct StateWaiters: Sendable {
    private struct Waiter {
        let isSatisfied: @Sendable () -> Bool
        let continuation: CheckedContinuation<Bool, Never>
    }

    private let waiters = NIOLockedValueBox<(next: Int, all: [Int: Waiter])>((0, [:]))

    /// Waits until `condition` holds or `timeout` has passed.
    /// - Parameters:
    ///   - timeout: how long to wait.
    ///   - condition: read after every change; must not call back into the waiters.
    /// - Returns: whether the condition holds (`false`: timed out or cancelled).
    func wait(timeout: Duration, until condition: @escaping @Sendable () -> Bool) async -> Bool {
        if condition() { return true }
        let held = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.suspend(until: condition) }
            group.addTask {
                // A real timer: the wait's deadline.
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        return held || condition()
    }

    /// Waits until `condition` holds, without a deadline.
    /// - Returns: `true`, or `false` when the task was cancelled first.
    func wait(until condition: @escaping @Sendable () -> Bool) async -> Bool {
        if condition() { return true }
        return await suspend(until: condition)
    }

    /// Resumes the waiters whose condition holds now.
    func changed() {
        let ready = waiters.withLockedValue { w -> [CheckedContinuation<Bool, Never>] in
            guard !w.all.isEmpty else { return [] }
            var ready: [CheckedContinuation<Bool, Never>] = []
            for (key, waiter) in w.all where waiter.isSatisfied() {
                ready.append(waiter.continuation)
                w.all[key] = nil
            }
            return ready
        }
        for continuation in ready { continuation.resume(returning: true) }
    }

    /// Suspends until `condition` holds (`true`) or the task is cancelled (`false`).
    private func suspend(until condition: @escaping @Sendable () -> Bool) async -> Bool {
        let key = waiters.withLockedValue { w -> Int in
            w.next += 1
            return w.next
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                waiters.withLockedValue { $0.all[key] = Waiter(isSatisfied: condition, continuation: continuation) }
                // A change between the first look and this registration, or a
                // cancellation before it, would otherwise go unseen.
                if Task.isCancelled {
                    take(key)?.resume(returning: false)
                } else if condition() {
                    take(key)?.resume(returning: true)
                }
            }
        } onCancel: {
            take(key)?.resume(returning: false)
        }
    }

    private func take(_ key: Int) -> CheckedContinuation<Bool, Never>? {
        waiters.withLockedValue { $0.all.removeValue(forKey: key)?.continuation }
    }
}
