import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The faults a ``FaultProxy`` applies.
struct FaultProxySettings: Sendable, Hashable {
    /// Bytes per second from clients to the target (`nil`: unlimited).
    var upstreamBytesPerSecond: Int?
    /// Bytes per second from the target to clients (`nil`: unlimited).
    var downstreamBytesPerSecond: Int?
    /// How long each byte is held before it is forwarded.
    var delay: TimeAmount = .zero
    /// Nothing is read or forwarded.
    var paused = false
    /// A direction stops reading while it holds this many bytes.
    var highWater = 64 * 1024

    /// Settings with no faults.
    init() {}

    func rate(_ direction: FaultProxyForwarder.Direction) -> Int? {
        direction == .upstream ? upstreamBytesPerSecond : downstreamBytesPerSecond
    }
}
