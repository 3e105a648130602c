import Foundation

/// CPU time used by a process (user and system, all its threads, live or
/// ended). Unlike wall-clock times it barely moves when other programs load
/// the machine, so the swarm bench prints it beside its timings.
enum ProcessCPU {
    /// The CPU time `pid` has used so far, in seconds (this process: from
    /// `getrusage`; another: from `/proc/PID/stat`, in clock ticks); 0 when it cannot be read.
    static func seconds(pid: Int32) -> Double {
        if pid == getpid() {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            return user + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        }
        // "pid (comm) state ppid ...": utime and stime are fields 14 and 15, counted after the comm's ")".
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The CPU time `pids` use while `body` runs, in seconds, one per pid.
    static func measure<T>(_ pids: [Int32], _ body: () async throws -> T) async rethrows -> (T, [Double]) {
        let before = pids.map(seconds(pid:))
        let value = try await body()
        return (value, zip(pids, before).map { seconds(pid: $0) - $1 })
    }
}
