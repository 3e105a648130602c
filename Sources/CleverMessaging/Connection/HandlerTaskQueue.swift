import DequeModule
import NIOConcurrencyHelpers

/// Handler work waiting for the task group of ``Connection/run()``.
///
/// While `run()` runs, work submitted here becomes a child task of its group,
/// so every handler a connection starts ends before `run()` returns, and a
/// cancelled `run()` cancels them. While it does not (a role that has not
/// adopted it yet), ``submit(_:)`` says so and the caller falls back to a task
/// of its own.
package final class HandlerTaskQueue: Sendable {
    typealias Work = @Sendable () async -> Void

    private struct State {
        var running = false
        var finished = false
        var queue = Deque<Work>()
        var waiter: CheckedContinuation<Work?, Never>?
        /// A ``wake()`` for a ``nextUntilWoken()`` that was not waiting yet.
        var woken = false
        /// Whether `waiter` is a ``nextUntilWoken()`` (which a ``wake()`` resumes).
        var waiterWakeable = false
    }

    private let state = NIOLockedValueBox(State())

    /// Hands `work` to the running group.
    /// - Returns: `false` when no `run()` takes it (the caller runs it itself).
    func submit(_ work: @escaping Work) -> Bool {
        let waiter = state.withLockedValue { s -> CheckedContinuation<Work?, Never>?? in
            guard s.running else { return .none }
            if let waiter = s.waiter {
                s.waiter = nil
                return .some(waiter)
            }
            s.queue.append(work)
            return .some(nil)
        }
        guard let waiter else { return false }
        waiter?.resume(returning: work)
        return true
    }

    /// Whether work goes to a running `run()` now (for tests).
    var submitsToRun: Bool { state.withLockedValue { $0.running } }

    /// Starts taking work. - Returns: `false` when a `run()` takes it already, or the connection is closed.
    func start() -> Bool {
        state.withLockedValue { s in
            guard !s.running, !s.finished else { return false }
            s.running = true
            return true
        }
    }

    /// The next work; `nil` once the connection is closed (and nothing waits) or the caller is cancelled.
    func next() async -> Work? {
        await next(orWoken: false)
    }

    private func next(orWoken wakeable: Bool) async -> Work? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Work?, Never>) in
                let ready = state.withLockedValue { s -> Work?? in
                    if let work = s.queue.popFirst() { return .some(work) }
                    if s.finished || Task.isCancelled { return .some(nil) }
                    if wakeable, s.woken {
                        s.woken = false
                        return .some(nil)
                    }
                    s.waiter = continuation
                    s.waiterWakeable = wakeable
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            state.withLockedValue { s in defer { s.waiter = nil }; return s.waiter }?.resume(returning: nil)
        }
    }

    /// The next work, or `nil` once ``wake()`` is called, the queue is finished
    /// or the task is cancelled: for an owner that runs handler work in its own
    /// task group while it waits for something else (a client's link), and
    /// looks at its own condition after each `nil`.
    func nextUntilWoken() async -> Work? {
        await next(orWoken: true)
    }

    /// Whether more work can come: not finished, and the task is not cancelled.
    var takesMore: Bool {
        !Task.isCancelled && !state.withLockedValue { $0.finished }
    }

    /// Hands what is queued already to `add`.
    func takeQueued(_ add: (@escaping Work) -> Void) {
        while let work = state.withLockedValue({ $0.queue.popFirst() }) { add(work) }
    }

    /// Makes a waiting (or the next) ``nextUntilWoken()`` look at its condition again.
    func wake() {
        state.withLockedValue { s -> CheckedContinuation<Work?, Never>? in
            guard let waiter = s.waiter, s.waiterWakeable else {
                s.woken = true
                return nil
            }
            s.waiter = nil
            return waiter
        }?.resume(returning: nil)
    }

    /// `run()` stopped taking work: what is still queued runs in tasks of its own.
    /// - Returns: the work left.
    func stop() -> [Work] {
        state.withLockedValue { s in
            s.running = false
            defer { s.queue.removeAll() }
            return Array(s.queue)
        }
    }

    /// The connection is closed for good: `run()` ends once its handlers have.
    func finish() {
        state.withLockedValue { s in
            s.finished = true
            defer { s.waiter = nil }
            return s.waiter
        }?.resume(returning: nil)
    }
}
