import ArgumentParser
import CleverMessaging
import Foundation
import NIOCore
import NIOPosix

extension Bench {
    /// `clever-msg bench files`: file push and pull over loopback, receiver in its own process.
    struct Files: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "File push and pull MB/s vs a raw TCP blast of the same file; peak RSS of sender and receiver.",
            discussion: """
                Creates a file of --size bytes, starts a receiver (this tool, in a second \
                process) on 127.0.0.1, pushes the file to it (streamed, verified by --checksum, \
                fsynced, renamed into place, acknowledged) and pulls it back. The physical \
                baseline reads the same file's bytes into two reused 1 MiB buffers and sends \
                them through a plain TCP channel to a sink in the receiver process, once \
                before the push and once after it; the ratios \
                are against both blasts together. The source file is removed before the \
                pull, so that push and pull each write the run's second copy. Peak RSS is \
                each process's own maximum (VmHWM); the sender's is taken from after the file \
                is made and the memory malloc holds free is given back (malloc_trim), so \
                neither the bench's own buffer for making it nor an earlier round counts.

                This runs twice: with both sides' files in --directory (normally on a \
                disk), and again in --tmpfs-directory (memory, where fsync costs nothing), \
                each round with its own raw blast. On a disk a verified, fsynced file \
                cannot arrive faster than the disk writes and syncs it, so the disk round \
                also measures a plain write + fsync of the same size there and prints it \
                as the disk's cap. The tmpfs round measures the same write: a received \
                file's bytes go into fresh pages, which no transfer avoids.
                """
        )

        @OptionGroup var options: Bench.Options

        @Option(help: "File size in bytes (default 1 GiB).")
        var size: Int64 = 1 << 30

        @Option(help: "Directory for the disk round's files (default: the system's temporary directory).")
        var directory: String = NSTemporaryDirectory()

        @Option(help: "Directory on tmpfs for the second round (default /dev/shm; an empty string skips the round).")
        var tmpfsDirectory: String = "/dev/shm"

        @Option(help: "The integrity check the sending side asks for: xxh64 (the library's default between its peers) or sha256 (what reference peers get).")
        var checksum: String = FileChecksum.xxh64.rawValue

        func validate() throws {
            guard size >= 0 else { throw ValidationError("--size must not be negative") }
            guard FileChecksum(rawValue: checksum) != nil else { throw ValidationError("--checksum must be xxh64 or sha256") }
        }

        func run() async throws {
            let reporter = Reporter(json: options.json)
            reporter.warnIfDebug()
            var (receiverRSS, senderRSS) = try await round(in: directory, names: "files", label: "", measureDisk: true, reporter: reporter)
            if !tmpfsDirectory.isEmpty {
                if FileManager.default.fileExists(atPath: tmpfsDirectory) {
                    let rss = try await round(in: tmpfsDirectory, names: "files.tmpfs", label: "tmpfs ", measureDisk: false, reporter: reporter)
                    receiverRSS = max(receiverRSS, rss.receiver)
                    senderRSS = max(senderRSS, rss.sender)
                } else {
                    reporter.note("no \(tmpfsDirectory): tmpfs round skipped")
                }
            }
            reporter.report(Measurement(name: "files.rss.sender", value: Double(senderRSS) / 1_048_576, unit: "MiB", baseline: nil, label: "peak RSS, sender"))
            reporter.report(Measurement(name: "files.rss.receiver", value: Double(receiverRSS) / 1_048_576, unit: "MiB", baseline: nil, label: "peak RSS, receiver"))
        }

        /// Pushes, pulls and blasts a file with both sides' files under `directory`;
        /// reports the rates and returns the receiver process's peak RSS and this one's during the round.
        func round(
            in directory: String, names: String, label: String, measureDisk: Bool, reporter: Reporter
        ) async throws -> (receiver: Int, sender: Int) {
            let work = URL(fileURLWithPath: directory).appendingPathComponent("clever-bench-\(UUID().uuidString)")
            let senderRoot = work.appendingPathComponent("sender").path
            let receiverRoot = work.appendingPathComponent("receiver").path
            try FileManager.default.createDirectory(atPath: senderRoot, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: receiverRoot, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: work) }
            let source = senderRoot + "/source.bin"
            try Self.makeFile(at: source, size: size)
            // Each round's peak is its own: what earlier rounds (or making the
            // file) freed but malloc still holds goes back to the system first.
            Self.trimMalloc()
            Self.resetPeakRSS()
            let startRSS = Self.peakRSS()
            reporter.note("file: \(size) bytes in \(work.path)")

            let receiver = try ReceiverProcess(root: receiverRoot, rawBytes: size)
            var configuration = ConnectionConfiguration()
            configuration.filePolicy = try FilePolicy(allowedRoots: [senderRoot])
            configuration.fileChecksum = FileChecksum(rawValue: checksum) ?? .xxh64
            let client = MessagingClient(host: "127.0.0.1", port: receiver.port, registry: HandlerRegistry(), configuration: configuration)
            let clientTask = Task { try await client.run() }
            try await client.connection.waitUntilConnected()
            _ = try await client.connection.request("id")  // learns that the receiver speaks the extensions

            // The raw blast runs before the push and again before the pull; the
            // baseline is both together (the same bytes twice over the time of both).
            // CPU seconds of both processes per phase: steady where wall times are not (a loaded machine).
            let pids = [getpid(), receiver.process.processIdentifier]
            let (rawBefore, rawCPUBefore) = try await ProcessCPU.measure(pids) { try await Self.rawBlast(file: source, size: size, port: receiver.rawPort) }
            var start = NIODeadline.now()
            let (pushed, pushCPU) = try await ProcessCPU.measure(pids) {
                try await client.connection.pushFile(source, to: "pushed.bin", acknowledgementTimeout: .seconds(600))
            }
            let pushSeconds = NIODeadline.seconds(since: start)
            let (rawAfter, rawCPUAfter) = try await ProcessCPU.measure(pids) { try await Self.rawBlast(file: source, size: size, port: receiver.rawPort) }
            let rawSeconds = (rawBefore + rawAfter) / 2
            // The pull writes its copy while the pushed file and the source would
            // both be in memory (tmpfs) or in the page cache: the source goes first,
            // so that the pull, like the push, writes a second copy and not a third
            // (on this VM, memory past the first couple of GiB is slow to touch).
            try FileManager.default.removeItem(atPath: source)
            start = NIODeadline.now()
            let (pulled, pullCPU) = try await ProcessCPU.measure(pids) {
                try await client.connection.pullFile("pushed.bin", to: senderRoot + "/pulled.bin", timeout: .seconds(600))
            }
            let pullSeconds = NIODeadline.seconds(since: start)
            guard pushed.delivery == .acknowledged, pushed.digest != nil, pulled.checksum == pushed.checksum,
                pulled.digest == pushed.digest, pulled.bytes == size
            else {
                throw ValidationError("transfer check failed: pushed \(pushed), pulled \(pulled)")
            }
            try? FileManager.default.removeItem(atPath: senderRoot + "/pulled.bin")
            let writeSeconds = try Self.writeAndSync(from: receiverRoot + "/pushed.bin", to: receiverRoot + "/fsync-baseline.bin", size: size)
            try? FileManager.default.removeItem(atPath: receiverRoot + "/pushed.bin")

            client.shutdown()
            try await clientTask.value
            let receiverRSS = try receiver.finish()
            let senderRSS = Self.peakRSS()

            let mb = Double(size) / 1_000_000
            let raw = mb / rawSeconds
            let check = pushed.checksum?.rawValue ?? "unchecked"
            reporter.report(Measurement(name: "\(names).push", value: mb / pushSeconds, unit: "MB/s", baseline: raw, label: "\(label)push (\(check), fsync, ack)"))
            reporter.report(Measurement(name: "\(names).pull", value: mb / pullSeconds, unit: "MB/s", baseline: raw, label: "\(label)pull (\(check), fsync)"))
            reporter.report(Measurement(name: "\(names).raw_blast", value: raw, unit: "MB/s", baseline: nil, label: "\(label)raw TCP blast (baseline)"))
            let gib = Double(size) / Double(1 << 30)
            let rawCPU = zip(rawCPUBefore, rawCPUAfter).map { ($0 + $1) / 2 }
            func cpu(_ seconds: [Double]) -> String {
                String(format: "client %.2f s, receiver process %.2f s, total %.2f s", seconds[0] / gib, seconds[1] / gib, (seconds[0] + seconds[1]) / gib)
            }
            reporter.note(String(format: "%@sender RSS before the transfers: %.1f MiB, peak during them: %.1f MiB", label, Double(startRSS) / 1_048_576, Double(senderRSS) / 1_048_576))
            reporter.note("\(label)CPU per GiB: push \(cpu(pushCPU)); pull \(cpu(pullCPU)); raw blast \(cpu(rawCPU))")
            if measureDisk {
                reporter.report(Measurement(name: "\(names).disk_fsync", value: mb / writeSeconds, unit: "MB/s", baseline: raw, label: "write+fsync, no network (cap)"))
                reporter.note(
                    "note: push and pull above write and fsync the file in \(directory), so they cannot beat its own write+fsync rate (the cap line); the tmpfs lines show the transfer without the disk."
                )
            } else {
                // The receiver's own write into fresh pages, which no transfer avoids: a tmpfs file's cap.
                reporter.report(Measurement(name: "\(names).write", value: mb / writeSeconds, unit: "MB/s", baseline: raw, label: "tmpfs write+fsync, no network (cap)"))
            }
            return (receiverRSS, senderRSS)
        }

        /// Copies `size` bytes of `source` to a new file at `path` and fsyncs it, as
        /// `dd conv=fsync` would; returns the seconds taken and removes the copy.
        static func writeAndSync(from source: String, to path: String, size: Int64) throws -> Double {
            let input = open(source, O_RDONLY | O_CLOEXEC)
            guard input >= 0 else { throw ValidationError("cannot open \(source)") }
            defer { close(input) }
            let start = NIODeadline.now()
            let output = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard output >= 0 else { throw ValidationError("cannot create \(path)") }
            defer {
                close(output)
                unlink(path)
            }
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            var done: Int64 = 0
            while done < size {
                let n = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                guard n > 0 else { throw ValidationError("cannot read \(source)") }
                var written = 0
                while written < n {
                    let w = chunk.withUnsafeBytes { write(output, $0.baseAddress! + written, n - written) }
                    guard w > 0 else { throw ValidationError("cannot write \(path)") }
                    written += w
                }
                done += Int64(n)
            }
            guard fsync(output) == 0 else { throw ValidationError("cannot fsync \(path)") }
            return NIODeadline.seconds(since: start)
        }

        /// Writes `size` pseudo-random bytes in 4 MiB chunks, and syncs them.
        static func makeFile(at path: String, size: Int64) throws {
            guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                throw ValidationError("cannot create \(path)")
            }
            defer { try? handle.close() }
            var chunk = [UInt8](repeating: 0, count: 4 << 20)
            var x: UInt64 = 0x2545_F491_4F6C_DD1D
            var written: Int64 = 0
            while written < size {
                for i in stride(from: 0, to: chunk.count, by: 8) {
                    x ^= x << 13
                    x ^= x >> 7
                    x ^= x << 17
                    withUnsafeBytes(of: x) { raw in
                        for j in 0..<8 { chunk[i + j] = raw[j] }
                    }
                }
                let n = Int(min(Int64(chunk.count), size - written))
                try handle.write(contentsOf: chunk[0..<n])
                written += Int64(n)
            }
            // On the disk, the file's own writeback must not run under the timed transfers.
            try handle.synchronize()
        }

        /// Sends the file's bytes through a plain channel; returns seconds until the sink saw them all.
        ///
        /// The file is read with `read(2)` into two buffers of ``rawBlastChunk``
        /// bytes, made once and used in turn (one being written while the other
        /// fills), so that the baseline's own memory stays at 2 MiB and does
        /// not weigh on the sender's peak RSS, which measures the transfers.
        static func rawBlast(file: String, size: Int64, port: Int) async throws -> Double {
            let group = MultiThreadedEventLoopGroup.singleton
            let done = group.any().makePromise(of: Void.self)
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RawLoopback.AnyReplyHandler(done: done))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            let descriptor = open(file, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw ValidationError("cannot open \(file)") }
            defer { close(descriptor) }
            var filling = channel.allocator.buffer(capacity: rawBlastChunk)
            var other = channel.allocator.buffer(capacity: rawBlastChunk)
            let start = NIODeadline.now()
            var previous: EventLoopFuture<Void>?
            while true {
                filling.clear()
                let count = try filling.writeWithUnsafeMutableBytes(minimumWritableBytes: rawBlastChunk) { space in
                    let n = read(descriptor, space.baseAddress, rawBlastChunk)
                    guard n >= 0 else { throw ValidationError("cannot read \(file)") }
                    return n
                }
                if count == 0 { break }
                let write = channel.eventLoop.makePromise(of: Void.self)
                channel.writeAndFlush(filling, promise: write)
                try await previous?.get()
                previous = write.futureResult
                // The buffer whose write just completed fills next.
                swap(&filling, &other)
            }
            try await previous?.get()
            try await done.futureResult.get()
            let seconds = NIODeadline.seconds(since: start)
            try? await channel.close()
            return seconds
        }

        /// Bytes per write of the raw blast.
        static let rawBlastChunk = 1 << 20

        /// This process's peak resident set size, in bytes: `VmHWM` of
        /// `/proc/self/status`, the peak of this process's own memory. (Not
        /// `getrusage`'s `ru_maxrss`, which a process started with `posix_spawn`
        /// inherits from its parent's resident size at the spawn and keeps across
        /// `execve`: a receiver would report at least its parent's size.)
        static func peakRSS() -> Int {
            if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kib = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
            {
                return kib * 1024
            }
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return usage.ru_maxrss * 1024
        }

        /// Gives the memory malloc holds free back to the system (glibc's
        /// `malloc_trim`, looked up at run time; elsewhere nothing).
        static func trimMalloc() {
            #if canImport(Glibc)
            guard let symbol = dlsym(nil, "malloc_trim") else { return }
            typealias Trim = @convention(c) (Int) -> Int32
            _ = unsafeBitCast(symbol, to: Trim.self)(0)
            #endif
        }

        /// Starts this process's peak resident set size again from its current size (Linux 4.0 and later; elsewhere nothing).
        static func resetPeakRSS() {
            guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return }
            try? handle.write(contentsOf: Data("5".utf8))
            try? handle.close()
        }
    }
}
