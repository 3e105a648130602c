import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Human-readable durations, byte counts and errors for log lines (never raw
/// nanoseconds such as `1981619889 ns`).
package enum LogFormat {
    /// A duration as people read it: `750 µs`, `12 ms`, `1.98 s`, `2 min 5 s`, `1 h 3 min`.
    /// - Parameter duration: the span.
    /// - Returns: the text.
    package static func duration(_ duration: Duration) -> String {
        nanoseconds(TimeAmount(duration).nanoseconds)
    }

    /// A duration as people read it (see ``duration(_:)-(Duration)``).
    /// - Parameter amount: the span.
    /// - Returns: the text.
    package static func duration(_ amount: TimeAmount) -> String {
        nanoseconds(amount.nanoseconds)
    }

    private static func nanoseconds(_ ns: Int64) -> String {
        if ns < 0 { return "-" + nanoseconds(ns == .min ? .max : -ns) }
        switch ns {
        case 0: return "0 s"
        case ..<1_000: return "\(ns) ns"
        case ..<1_000_000: return trimmed(Double(ns) / 1e3, unit: "µs")
        case ..<1_000_000_000: return trimmed(Double(ns) / 1e6, unit: "ms")
        case ..<60_000_000_000: return trimmed(Double(ns) / 1e9, unit: "s")
        case ..<3_600_000_000_000:
            let seconds = ns / 1_000_000_000
            return seconds % 60 == 0 ? "\(seconds / 60) min" : "\(seconds / 60) min \(seconds % 60) s"
        default:
            let minutes = ns / 60_000_000_000
            return minutes % 60 == 0 ? "\(minutes / 60) h" : "\(minutes / 60) h \(minutes % 60) min"
        }
    }

    /// Three significant digits at most, without trailing zeros: `1.98 s`, `12 ms`, `250 ms`.
    private static func trimmed(_ value: Double, unit: String) -> String {
        let digits = value >= 100 ? 0 : value >= 10 ? 1 : 2
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return "\(text) \(unit)"
    }

    /// A byte count: `512 B`, `4 KiB`, `1.5 MiB`, `64 MiB`.
    /// - Parameter count: the bytes.
    /// - Returns: the text.
    package static func bytes(_ count: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while abs(value) >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : trimmed(value, unit: units[unit])
    }

    /// The system's text for an `errno` value, such as `"No such file or directory"` for 2.
    /// - Parameter code: the `errno` value.
    /// - Returns: the text `strerror` gives.
    package static func systemError(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// An error as one readable phrase. NIO's `IOError` describes itself as
    /// `"connection reset (error set): Connection refused (errno: 111)"`; this
    /// gives `"connection refused (errno 111)"`-like text for system errors and
    /// the error's own description otherwise.
    /// - Parameter error: the error.
    /// - Returns: the text.
    package static func error(_ error: any Error) -> String {
        describe(error, errno: true)
    }

    /// An error in plain words, as ``error(_:)`` without the `errno` number:
    /// `"connection refused"`.
    /// - Parameter error: the error.
    /// - Returns: the text.
    package static func reason(_ error: any Error) -> String {
        describe(error, errno: false)
    }

    private static func describe(_ error: any Error, errno showErrno: Bool) -> String {
        if let io = error as? IOError {
            let reason = systemError(io.errnoCode).lowercased()
            return showErrno ? "\(reason) (errno \(io.errnoCode))" : reason
        }
        if let connect = error as? NIOConnectionError {
            let causes = connect.connectionErrors.map { "\($0.target): \(describe($0.error, errno: showErrno))" }
            if let dns = connect.dnsAAAAError ?? connect.dnsAError, causes.isEmpty {
                return "cannot resolve \(connect.host): \(describe(dns, errno: showErrno))"
            }
            return causes.isEmpty ? "cannot connect to \(connect.host):\(connect.port)" : causes.joined(separator: "; ")
        }
        if error is ChannelError {
            switch error as! ChannelError {
            case .connectTimeout(let amount): return "connect timed out after \(duration(amount))"
            case .ioOnClosedChannel, .alreadyClosed, .outputClosed: return "the link is closed"
            case .eof: return "the peer closed the link"
            default: return "\(error)"
            }
        }
        return "\(error)"
    }
}
