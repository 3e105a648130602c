import NIOConcurrencyHelpers

/// A value that tests wait on: every change through ``update(_:)`` wakes the
/// waiters, which look at the value again (no polling; a timeout is only a deadline).
public final class Watched<Value: Sendable>: Sendable {
    private struct State {
        var value: Value
        var nextWaiter = 0
        var waiters: [Int: AsyncStream<Void>.Continuation] = [:]
    }

    private let state: NIOLockedValueBox<State>

    /// A watched `value`.
    public init(_ value: Value) {
        state = NIOLockedValueBox(State(value: value))
    }

    /// The value now.
    public var value: Value { state.withLockedValue { $0.value } }

    /// Changes the value and wakes the waiters.
    @discardableResult
    public func update<Result>(_ body: (inout Value) -> Result) -> Result {
        let (result, waiters) = state.withLockedValue { state in
            (body(&state.value), Array(state.waiters.values))
        }
        for waiter in waiters { waiter.yield() }
        return result
    }

    /// Waits until `condition` holds for the value, or `timeout` passes.
    /// - Returns: whether it held.
    @discardableResult
    public func wait(timeout: Duration = .seconds(10), until condition: @escaping @Sendable (Value) -> Bool) async -> Bool {
        let held = await withDeadline(timeout, else: false) { await self.changes(until: condition) }
        return held || condition(value)
    }

    /// Waits, with no deadline, until `condition` holds; throws `CancellationError` when the task is cancelled first.
    public func waitCancellably(until condition: @escaping @Sendable (Value) -> Bool) async throws {
        guard await changes(until: condition) else { throw CancellationError() }
    }

    /// Reads the value after every change until `condition` holds (`true`) or the task is cancelled (`false`).
    private func changes(until condition: @escaping @Sendable (Value) -> Bool) async -> Bool {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let key = state.withLockedValue { state -> Int in
            state.nextWaiter += 1
            state.waiters[state.nextWaiter] = continuation
            return state.nextWaiter
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLockedValue { $0.waiters.removeValue(forKey: key) }
        }
        defer { continuation.finish() }
        // Registered first, read second: a change in between leaves a wake-up in the stream.
        if condition(value) { return true }
        for await _ in stream where condition(value) { return true }
        return false
    }
}
