import NIOCore

/// A token bucket, as a pure value: it holds up to `capacity` tokens, gains
/// `rate` tokens a second, and each event takes one. Time comes in as an
/// argument (``take(_:now:)``): it is tested on explicit instants.
package struct TokenBucket: Sendable, Hashable {
    /// The most tokens held.
    package let capacity: Int
    /// Tokens gained per second.
    package let rate: Int
    /// Tokens held, in billionths of a token (whole nanoseconds of refill at rate 1).
    private var nanoTokens: Int64
    /// When the bucket was last refilled.
    private var refilled: NIODeadline

    /// A full bucket.
    /// - Parameters:
    ///   - capacity: the most tokens held (at least 1).
    ///   - rate: tokens gained per second (at least 1).
    ///   - now: the present.
    package init(capacity: Int, rate: Int, now: NIODeadline) {
        self.capacity = max(1, capacity)
        self.rate = max(1, rate)
        self.nanoTokens = Int64(self.capacity) * 1_000_000_000
        self.refilled = now
    }

    /// A bucket for `limit`.
    package init(_ limit: FrameRateLimit, now: NIODeadline) {
        self.init(capacity: limit.burst, rate: limit.framesPerSecond, now: now)
    }

    /// Whole tokens held now (after the refill due at `now`).
    package mutating func available(now: NIODeadline) -> Int {
        refill(now: now)
        return Int(nanoTokens / 1_000_000_000)
    }

    /// Takes `count` tokens at `now`.
    /// - Returns: whether there were enough (if not, the bucket is left empty).
    package mutating func take(_ count: Int = 1, now: NIODeadline) -> Bool {
        refill(now: now)
        let wanted = Int64(count) * 1_000_000_000
        guard nanoTokens >= wanted else {
            nanoTokens = 0
            return false
        }
        nanoTokens -= wanted
        return true
    }

    private mutating func refill(now: NIODeadline) {
        guard now > refilled else { return }
        let elapsed = (now - refilled).nanoseconds
        refilled = now
        let full = Int64(capacity) * 1_000_000_000
        // elapsed (ns) × rate (tokens/s) = nano-tokens, capped at a full bucket.
        let product = elapsed.multipliedReportingOverflow(by: Int64(rate))
        let gained = product.overflow ? full : min(full, product.partialValue)
        nanoTokens = min(full, nanoTokens + gained)
    }
}
