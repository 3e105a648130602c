import Foundation
import NIOConcurrencyHelpers

/// A child process started with `posix_spawn` and reaped by a thread of its
/// own, for tests that run programs (`clever-msg`, the Python peers,
/// `nats-server`).
///
/// Foundation's `Process` is not used for this: on Linux it learns of a
/// child's exit from the end of a socket pair that the child inherits without
/// close-on-exec. Another child spawned at the same moment by another test can
/// inherit that socket too, and then the first child's exit is reported only
/// when the second one exits, which for a long-lived peer is never: a test
/// waiting for a program that had long exited hung the whole run. Here the exit
/// is learned from `waitpid`, which sees this child alone, and every spawned
/// child closes all descriptors but its standard input, output and error.
///
/// The spawning thread is also the reaping thread and lives exactly as long as
/// the child, so a death signal bound to the parent thread
/// (`setpriv --pdeathsig`) fires when the test process dies, never earlier.
public final class SpawnedProcess: Sendable {
    /// Where one of the child's standard streams goes.
    public enum Stream: Sendable {
        /// `/dev/null`.
        case null
        /// A descriptor of this process, duplicated onto the stream in the child
        /// (this process keeps its own copy; close it when no longer needed).
        case descriptor(Int32)
    }

    /// A program that could not be started, with the reason.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong.
        public var description: String
    }

    /// The child's process id.
    public let processIdentifier: pid_t
    private let state: NIOLockedValueBox<State>

    private struct State {
        /// The exit status once the child exited: its exit code, or the number of the signal that ended it.
        var status: Int32?
        var waiters: [CheckedContinuation<Int32, Never>] = []
        var onExit: (@Sendable (Int32) -> Void)?
    }

    /// Starts `executable` with `arguments` (without the program name) and the
    /// given environment (this process's when `nil`); `onExit` is called once
    /// with the exit status, on the reaping thread.
    public init(
        executable: String,
        arguments: [String],
        environment: [String: String]? = nil,
        standardInput: Stream = .null,
        standardOutput: Stream = .null,
        standardError: Stream = .null,
        onExit: (@Sendable (Int32) -> Void)? = nil
    ) throws {
        let state = NIOLockedValueBox(State(onExit: onExit))
        self.state = state
        let spawned = NIOLockedValueBox<Result<pid_t, Failure>?>(nil)
        let ready = ConditionLock(value: false)
        let streams = [standardInput, standardOutput, standardError]
        let environmentLines = (environment ?? ProcessInfo.processInfo.environment).map { "\($0)=\($1)" }
        let reaper = Thread {
            let result = Self.spawn(executable, arguments: arguments, environment: environmentLines, streams: streams)
            spawned.withLockedValue { $0 = result }
            ready.lock()
            ready.unlock(withValue: true)
            guard case .success(let pid) = result else { return }
            Self.reap(pid, state: state)
        }
        reaper.name = "spawned \(URL(fileURLWithPath: executable).lastPathComponent)"
        reaper.start()
        ready.lock(whenValue: true)
        ready.unlock()
        switch spawned.withLockedValue({ $0 })! {
        case .success(let pid): processIdentifier = pid
        case .failure(let failure): throw failure
        }
    }

    deinit {
        if isRunning { signal(SIGKILL) }
    }

    /// Whether the child has not exited yet.
    public var isRunning: Bool { state.withLockedValue { $0.status == nil } }

    /// The exit status once the child exited (its exit code, or the signal that ended it); `nil` while it runs.
    public var exitStatus: Int32? { state.withLockedValue { $0.status } }

    /// Sends `number` to the child if it has not exited. The child is not reaped
    /// until this lock is free, so its id cannot have gone to another process.
    public func signal(_ number: Int32) {
        state.withLockedValue { state in
            if state.status == nil { kill(processIdentifier, number) }
        }
    }

    /// Sends `SIGTERM`.
    public func terminate() { signal(SIGTERM) }

    /// Waits until the child exits (woken by its reaping, not polled).
    /// - Returns: its exit status.
    @discardableResult
    public func waitForExit() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status = state.withLockedValue { state -> Int32? in
                if let status = state.status { return status }
                state.waiters.append(continuation)
                return nil
            }
            if let status { continuation.resume(returning: status) }
        }
    }

    /// Blocks the calling thread until the child exits (for a synchronous stop;
    /// an async caller uses ``waitForExit()``).
    public func waitUntilExit() {
        var info = siginfo_t()
        // Fails with ECHILD once the reaping thread has reaped it: it has exited either way.
        while waitid(P_PID, id_t(processIdentifier), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
    }

    /// A pipe whose two ends close on `exec` (a child gets one only as a standard stream).
    public static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard Glibc.pipe(&fds) == 0 else { throw Failure(description: "pipe: errno \(errno)") }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return (fds[0], fds[1])
    }

    /// Opens `path` to read from, or to write to (created or truncated), closing on `exec`.
    public static func open(_ path: String, forWriting: Bool) throws -> Int32 {
        let flags = forWriting ? (O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC) : (O_RDONLY | O_CLOEXEC)
        let fd = Glibc.open(path, flags, 0o644)
        guard fd >= 0 else { throw Failure(description: "cannot open \(path): errno \(errno)") }
        return fd
    }

    /// Reads `fd` to its end on a thread of its own with blocking reads, handing
    /// each chunk to `chunk` and an empty one at the end; then closes `fd`.
    public static func readToEnd(_ fd: Int32, name: String, _ chunk: @escaping @Sendable ([UInt8]) -> Void) {
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    chunk(Array(buffer[0..<count]))
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            close(fd)
            chunk([])
        }
        reader.name = name
        reader.start()
    }

    /// Spawns the child; its standard streams are `streams`, every other descriptor is closed.
    private static func spawn(_ executable: String, arguments: [String], environment: [String], streams: [Stream]) -> Result<pid_t, Failure> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let null = Glibc.open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { if null >= 0 { close(null) } }
        for (target, stream) in streams.enumerated() {
            switch stream {
            case .null: posix_spawn_file_actions_adddup2(&actions, null, Int32(target))
            case .descriptor(let fd): posix_spawn_file_actions_adddup2(&actions, fd, Int32(target))
            }
        }
        // Close everything else, including descriptors another thread opens
        // meanwhile without close-on-exec (a failed close of a free number is ignored).
        for fd in 3...highestDescriptor() + 256 { posix_spawn_file_actions_addclose(&actions, fd) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A process group of its own, as Foundation's `Process` gives: a terminal's Ctrl-C goes to the test run only.
        posix_spawnattr_setpgroup(&attributes, 0)
        // No signal blocked: the spawning thread's mask (a pool thread's blocks many) is not the child's.
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            return .failure(Failure(description: "cannot start \(executable) \(arguments): \(String(cString: strerror(result)))"))
        }
        return .success(pid)
    }

    /// The highest descriptor number open in this process now.
    private static func highestDescriptor() -> Int32 {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.compactMap { Int32($0) }.max() ?? 1024
    }

    /// Waits for the child's exit, records it, then reaps the child and wakes every waiter.
    private static func reap(_ pid: pid_t, state: NIOLockedValueBox<State>) {
        // Learn of the exit without reaping, so that `signal(_:)` never targets a reused id.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        let (waiters, onExit, status) = state.withLockedValue { state -> ([CheckedContinuation<Int32, Never>], (@Sendable (Int32) -> Void)?, Int32) in
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
            // Exit code when it exited, the signal's number when a signal ended it (as Foundation's `Process`).
            let status = raw & 0x7f == 0 ? (raw >> 8) & 0xff : raw & 0x7f
            state.status = status
            defer {
                state.waiters.removeAll()
                state.onExit = nil
            }
            return (state.waiters, state.onExit, status)
        }
        onExit?(status)
        for waiter in waiters { waiter.resume(returning: status) }
    }
}
