/// When a client tries to connect again after a failure or a drop.
///
/// The reference retries every 2 s, 3 times, then falls back to discovery.
/// Here the delay can grow (`backoffMultiplier`) up to `maximumDelay`, with
/// random `jitter` so that a fleet does not reconnect in lock step.
public struct ReconnectPolicy: Sendable, Hashable {
    /// Delay before the first retry. Default 2 s.
    public var initialDelay: Duration
    /// Factor applied to the delay after each failed attempt. Default 1 (constant, as the reference).
    public var backoffMultiplier: Double
    /// Upper bound for the delay. Default 30 s.
    public var maximumDelay: Duration
    /// Fraction of the delay added or removed at random (0 to 1). Default 0.
    public var jitter: Double
    /// Failed attempts in a row before ``MessagingClient`` turns to discovery
    /// (when it has a discovery listener), and again after every further such run
    /// of failures; it keeps retrying otherwise. Default 3.
    public var attemptsBeforeDiscovery: Int

    /// Creates a policy.
    /// - Parameters:
    ///   - initialDelay: first retry delay (default 2 s).
    ///   - backoffMultiplier: growth factor (default 1).
    ///   - maximumDelay: delay cap (default 30 s).
    ///   - jitter: random fraction (default 0).
    ///   - attemptsBeforeDiscovery: tries before discovery (default 3).
    public init(
        initialDelay: Duration = .seconds(2),
        backoffMultiplier: Double = 1,
        maximumDelay: Duration = .seconds(30),
        jitter: Double = 0,
        attemptsBeforeDiscovery: Int = 3
    ) {
        self.initialDelay = initialDelay
        self.backoffMultiplier = backoffMultiplier
        self.maximumDelay = maximumDelay
        self.jitter = jitter
        self.attemptsBeforeDiscovery = attemptsBeforeDiscovery
    }

    /// The reference's policy: every 2 s, 3 tries before discovery.
    public static let reference = ReconnectPolicy()

    /// The delay before attempt number `attempt` (1 for the first retry).
    /// - Parameter attempt: the retry's number, from 1.
    /// - Returns: the delay, with jitter applied.
    public func delay(beforeAttempt attempt: Int) -> Duration {
        // In seconds as a Double, capped before it becomes a Duration (a
        // growing delay would overflow one after enough attempts).
        func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        var delay = seconds(initialDelay) * pow(backoffMultiplier, Double(max(0, attempt - 1)))
        delay = min(delay, seconds(maximumDelay))
        if jitter > 0 {
            delay *= 1 + Double.random(in: -jitter...jitter)
        }
        guard delay.isFinite, delay > 0 else { return .zero }
        return .seconds(delay)
    }

    /// The first delay doubled `doublings` times, up to the maximum (at least
    /// the first delay), scaled by `1 + jitter × draw`: the back-off of links
    /// that are refused or displaced again and again. Computed in seconds and
    /// capped before it becomes a `Duration` (it stops growing past 2^64).
    /// - Parameters:
    ///   - doublings: how many times the first delay doubles (0: the first delay).
    ///   - jitter: the fraction added or removed at random.
    ///   - draw: a number in `-1...1` that scales `jitter` (0: none).
    /// - Returns: the delay, or `nil` when it is not a positive, finite time.
    package func doubledDelay(_ doublings: Int, jitter: Double, draw: Double) -> Duration? {
        let first = initialDelay.inSeconds
        var delay = first
        for _ in 0..<min(max(0, doublings), 64) { delay *= 2 }
        delay = min(max(first, maximumDelay.inSeconds), delay)
        delay *= 1 + jitter * min(1, max(-1, draw))
        guard delay.isFinite, delay > 0 else { return nil }
        return .seconds(delay)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
