#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser

/// The clock a benchmark reads.
enum BenchClock: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Monotonic elapsed time.
    case wall
    /// The calling thread's CPU time: time the thread was descheduled does not count.
    case cpu

    /// The current reading, in nanoseconds.
    func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(self == .wall ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
}

/// Keeps `value` alive so the optimizer cannot drop the work that made it.
@inline(never) @_optimize(none)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
