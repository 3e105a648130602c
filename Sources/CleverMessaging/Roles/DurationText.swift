import NIOCore

/// Text for the `Duration`s of the API. (NIO converts: `TimeAmount(duration)`
/// clamps to its range, `Duration(amount)` is exact.)
enum DurationText {
    /// A short human reading: `1.98 s`, `250 ms`, `2 min 5 s`.
    static func describe(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let total = Double(seconds) + Double(attoseconds) / 1e18
        if total.magnitude < 1, total != 0 {
            let milliseconds = total * 1000
            return milliseconds.magnitude < 10 ? "\(rounded(milliseconds, places: 2)) ms" : "\(rounded(milliseconds, places: 0)) ms"
        }
        if total.magnitude < 120 { return "\(rounded(total, places: 2)) s" }
        let whole = Int(total.rounded())
        return "\(whole / 60) min \(whole % 60) s"
    }

    /// A `TimeAmount` read as ``describe(_:)`` reads a duration.
    static func describe(_ amount: TimeAmount) -> String {
        describe(Duration(amount))
    }

    /// `value` with at most `places` decimals, without trailing zeros.
    private static func rounded(_ value: Double, places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (value * scale).rounded()
        let integer = Int(scaled)
        guard places > 0 else { return "\(integer)" }
        let unit = Int(scale)
        let sign = integer < 0 ? "-" : ""
        let magnitude = abs(integer)
        var fraction = String(magnitude % unit)
        fraction = String(repeating: "0", count: places - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? "\(sign)\(magnitude / unit)" : "\(sign)\(magnitude / unit).\(fraction)"
    }
}
