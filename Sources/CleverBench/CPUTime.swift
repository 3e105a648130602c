#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// CPU time spent, as a steadier measure than elapsed time on a busy machine:
/// the network benchmarks report how much CPU each side used per message.
enum CPUTime {
    /// The CPU time of `clock` in seconds.
    static func seconds(_ clock: clockid_t) -> Double {
        var now = timespec()
        clock_gettime(clock, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// The CPU time of the thread of `loop` so far, in seconds.
    static func ofThread(of loop: any EventLoop) async throws -> Double {
        try await loop.submit { seconds(CLOCK_THREAD_CPUTIME_ID) }.get()
    }

    /// The CPU time of the whole process so far, in seconds.
    static var ofProcess: Double { seconds(CLOCK_PROCESS_CPUTIME_ID) }

    /// CPU seconds used by a server loop, a client loop and everything else.
    struct Split {
        var server = 0.0
        var client = 0.0
        var rest = 0.0

        /// Reads the three clocks now.
        static func now(server: any EventLoop, client: any EventLoop) async throws -> Split {
            let s = try await ofThread(of: server)
            let c = try await ofThread(of: client)
            return Split(server: s, client: c, rest: ofProcess - s - c)
        }

        /// All three together.
        var total: Double { server + client + rest }

        /// What was used between `start` and `self`.
        func since(_ start: Split) -> Split {
            Split(server: server - start.server, client: client - start.client, rest: rest - start.rest)
        }

        /// Per `count` operations, in microseconds, as a note line.
        func note(per count: Int, what: String) -> String {
            func us(_ s: Double) -> String {
                let v = (s / Double(count) * 1e6 * 100).rounded() / 100
                return "\(v)"
            }
            return "CPU per \(what): server loop \(us(server)) µs, client loop \(us(client)) µs, "
                + "other threads \(us(rest)) µs, total \(us(total)) µs"
        }
    }
}
