import NIOCore

// The public API speaks `Duration`; the event loop's timers take NIO's
// `TimeAmount`. These are the one place where one becomes the other.

extension Duration {
    /// This duration as NIO's `TimeAmount` (nanoseconds, clamped to its range).
    package var timeAmount: TimeAmount { TimeAmount(self) }
}

extension Optional where Wrapped == Duration {
    /// The duration as NIO's `TimeAmount`, or `nil`.
    package var timeAmount: TimeAmount? { map { TimeAmount($0) } }
}

extension TimeAmount {
    /// This amount as a `Duration`.
    package var duration: Duration { Duration(self) }
}
