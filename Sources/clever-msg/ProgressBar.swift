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

/// Shows file-transfer progress: a redrawn bar with rate and ETA on a
/// terminal, plain lines (every 10 %) when standard error is not a terminal.
final class ProgressBar: Sendable {
    private let label: String
    private let isTerminal: Bool
    private let start = NIODeadline.now()
    private let state = NIOLockedValueBox((lastDraw: NIODeadline.distantPast, lastDecile: -1))

    /// Creates a bar for one transfer.
    /// - Parameter label: what is transferred, e.g. `"push show.csv"`.
    init(_ label: String) {
        self.label = label
        self.isTerminal = isatty(2) == 1
    }

    /// The handler to pass to `pushFile`/`pullFile`.
    var handler: FileTransferProgressHandler {
        { [self] progress in self.update(progress) }
    }

    /// Draws `progress` (rate-limited on a terminal).
    func update(_ progress: FileTransferProgress) {
        let now = NIODeadline.now()
        let elapsed = max(1e-9, Double((now - start).nanoseconds) / 1e9)
        let rate = Double(progress.bytesDone) / elapsed
        let done = progress.bytesDone == progress.totalBytes
        let line: String? = state.withLockedValue { s in
            if isTerminal {
                guard done || (now - s.lastDraw).nanoseconds > 100_000_000 else { return nil }
                s.lastDraw = now
                let width = 30
                let filled = Int(progress.fraction * Double(width))
                let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
                let remaining = rate > 0 ? Double(progress.totalBytes - progress.bytesDone) / rate : 0
                return "\r\(label) [\(bar)] \(Self.percent(progress.fraction)) \(Self.megabytes(rate))/s ETA \(Int(remaining.rounded()))s" + (done ? "\n" : "")
            }
            let decile = Int(progress.fraction * 10)
            guard decile > s.lastDecile else { return nil }
            s.lastDecile = decile
            return "\(label): \(Self.percent(progress.fraction)) (\(progress.bytesDone)/\(progress.totalBytes) bytes, \(Self.megabytes(rate))/s)\n"
        }
        if let line {
            let bytes = Array(line.utf8)
            _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        }
    }

    static func percent(_ fraction: Double) -> String {
        "\(Int((fraction * 100).rounded()))%"
    }

    static func megabytes(_ bytesPerSecond: Double) -> String {
        let value = bytesPerSecond / 1_000_000
        return value >= 100 ? "\(Int(value)) MB" : "\(Double(Int(value * 10)) / 10) MB"
    }
}
