import NIOConcurrencyHelpers

/// How far a file push to many drones has come
/// (``GroundStation/pushFile(_:to:drones:maximumConcurrent:acknowledgementTimeout:progress:)``).
public struct FilePushProgress: Sendable, Hashable {
    /// Bytes written to every drone's link so far, summed over the drones.
    public var bytesDone: Int64
    /// The file's size times the number of drones pushed to (those with a link when the push began).
    public var totalBytes: Int64
    /// Drones whose push has ended, successfully or not (drones without a link included).
    public var dronesDone: Int
    /// Drones whose push failed so far (drones without a link included).
    public var dronesFailed: Int
    /// Every drone asked for.
    public var drones: Int
    /// Pushes running now (at most the push's concurrency).
    public var inFlight: Int

    /// Creates a progress report.
    /// - Parameters:
    ///   - bytesDone: bytes written so far, over every drone.
    ///   - totalBytes: bytes to write, over every drone.
    ///   - dronesDone: drones done.
    ///   - dronesFailed: drones failed.
    ///   - drones: drones asked for.
    ///   - inFlight: pushes running now.
    public init(bytesDone: Int64, totalBytes: Int64, dronesDone: Int, dronesFailed: Int, drones: Int, inFlight: Int = 0) {
        self.bytesDone = bytesDone
        self.totalBytes = totalBytes
        self.dronesDone = dronesDone
        self.dronesFailed = dronesFailed
        self.drones = drones
        self.inFlight = inFlight
    }

    /// The fraction of the bytes done, from 0 to 1 (1 when there is nothing to write).
    public var fraction: Double { totalBytes == 0 ? 1 : Double(bytesDone) / Double(totalBytes) }
}

/// Called with progress reports of a push to many drones: at most once per
/// chunk written to any drone, and once as each drone's push ends; one call at
/// a time, in order (it must return quickly: the transfers wait for it).
public typealias FilePushProgressHandler = @Sendable (FilePushProgress) -> Void

/// Sums the progress of a push's transfers into one ``FilePushProgress``.
final class FilePushTally: Sendable {
    private struct State {
        var report: FilePushProgress
        /// Bytes done per transfer, by position.
        var bytes: [Int64]
    }

    private let state: NIOLockedValueBox<State>
    private let handler: FilePushProgressHandler?

    init(drones: Int, totalBytes: Int64, handler: FilePushProgressHandler?) {
        state = NIOLockedValueBox(
            State(report: FilePushProgress(bytesDone: 0, totalBytes: totalBytes, dronesDone: 0, dronesFailed: 0, drones: drones),
                  bytes: Array(repeating: 0, count: drones))
        )
        self.handler = handler
    }

    /// The sum so far.
    var report: FilePushProgress { state.withLockedValue { $0.report } }

    /// The transfer at `position` wrote `bytesDone` bytes so far.
    func progressed(_ position: Int, bytesDone: Int64) {
        // Reported under the lock, so that reports arrive one at a time and in order.
        state.withLockedValue { s in
            let delta = bytesDone - s.bytes[position]
            guard delta > 0 else { return }
            s.bytes[position] = bytesDone
            s.report.bytesDone += delta
            handler?(s.report)
        }
    }

    /// The transfer at `position` starts.
    func started(_ position: Int) {
        state.withLockedValue { s in
            s.report.inFlight += 1
            handler?(s.report)
        }
    }

    /// The transfer at `position` ended (`running`: it had started).
    func finished(_ position: Int, failed: Bool, running: Bool = true) {
        state.withLockedValue { s in
            if running { s.report.inFlight -= 1 }
            s.report.dronesDone += 1
            if failed { s.report.dronesFailed += 1 }
            handler?(s.report)
        }
    }
}
