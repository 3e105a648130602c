import CleverMessaging
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The console's one progress line for a push to many drones: bytes and
/// drones done over the fleet, redrawn in place on a terminal (standard
/// error); plain lines every 10 % of the bytes when it is not a terminal.
final class PushProgressLine: Sendable {
    private let label: String
    private let isTerminal: Bool
    private let start = NIODeadline.now()
    private let state = NIOLockedValueBox((lastDraw: NIODeadline.distantPast, lastDecile: -1, finished: false))

    /// Creates the line of one push.
    /// - Parameter label: what is pushed, e.g. `"push show.csv"`.
    init(_ label: String) {
        self.label = label
        self.isTerminal = isatty(2) == 1
    }

    /// The handler to pass to `GroundStation.pushFile`.
    var handler: FilePushProgressHandler {
        { [self] progress in self.update(progress) }
    }

    /// The text of the line for `progress`, `elapsed` seconds after the start.
    static func text(_ label: String, _ progress: FilePushProgress, elapsed: Double) -> String {
        let rate = Double(progress.bytesDone) / max(elapsed, 1e-9)
        var text = "\(label): \(ProgressBar.percent(progress.fraction)) \(ProgressBar.megabytes(rate))/s, "
            + "\(progress.dronesDone)/\(progress.drones) drones done"
        if progress.dronesFailed > 0 { text += " (\(progress.dronesFailed) failed)" }
        return text
    }

    /// Draws `progress` (at most every 100 ms on a terminal, and once done).
    func update(_ progress: FilePushProgress) {
        let now = NIODeadline.now()
        let elapsed = Double((now - start).nanoseconds) / 1e9
        let done = progress.dronesDone == progress.drones
        let line: String? = state.withLockedValue { s in
            guard !s.finished else { return nil }
            if done { s.finished = true }
            if isTerminal {
                guard done || (now - s.lastDraw).nanoseconds > 100_000_000 else { return nil }
                s.lastDraw = now
                // Cleared to the end, so that a shorter line leaves nothing of the last one.
                return "\r\(Self.text(label, progress, elapsed: elapsed))\u{1B}[K" + (done ? "\n" : "")
            }
            let decile = Int(progress.fraction * 10)
            guard decile > s.lastDecile || done else { return nil }
            s.lastDecile = decile
            return Self.text(label, progress, elapsed: elapsed) + "\n"
        }
        if let line {
            let bytes = Array(line.utf8)
            _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        }
    }
}
