#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The system's wall clock (`CLOCK_REALTIME`), as Unix seconds: what clock
/// offsets are measured against and timed starts are given in.
package enum WallClock {
    /// Now, as Unix seconds (microsecond resolution and better).
    package static var now: Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// Whether `time`, read from a peer, can be a clock's Unix time: finite and
    /// before the year 5000 (so that differences of such times always make a `Duration`).
    package static func isPlausible(_ time: Double) -> Bool {
        time.isFinite && abs(time) < 1e11
    }
}
