#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser

/// The process's open-file limit. A load test holds one descriptor per
/// connection, thousands of them, past the usual soft limit of 1,024: the
/// swarm benchmark's ground station and raw peers raise it, and so does a
/// swarm of simulated drones (`clever-msg swarm`).
public enum FileLimit {
    /// Raises the soft limit to the hard limit.
    /// - Returns: the new soft limit.
    /// - Throws: a `ValidationError` when the limit cannot be read or set.
    public static func raiseToHard() throws -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { throw ValidationError("getrlimit failed: errno \(errno)") }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) != 0 { throw ValidationError("setrlimit failed: errno \(errno)") }
        }
        return Int(min(limit.rlim_cur, rlim_t(Int.max)))
    }
}
