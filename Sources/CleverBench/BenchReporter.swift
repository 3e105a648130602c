import CleverMessaging

extension Bench {
    /// Prints measurements as text or JSON lines, and warns about debug builds.
    struct Reporter {
        /// Whether measurements are printed as JSON lines (notes are then left out).
        var json: Bool

        /// Prints the debug-build warning, if this is a debug build (to standard error,
        /// so that `--json` output stays machine-readable).
        func warnIfDebug() {
            #if DEBUG
            BenchOutput.write(
                "warning: clever-msg was built in debug mode; numbers are not representative (use -c release)\n",
                to: BenchOutput.standardError
            )
            #endif
        }

        /// Prints one measurement.
        func report(_ m: Measurement) {
            if json {
                let line: JSONObject = [
                    "bench": .string(m.name),
                    "value": .double(Self.rounded(m.value, places: 1)),
                    "unit": .string(m.unit),
                    "baseline": m.baseline.map { .double(Self.rounded($0, places: 1)) } ?? .null,
                    "ratio": m.ratio.map { .double(Self.rounded($0, places: 2)) } ?? .null,
                ]
                BenchOutput.writeLine(.object(line))
            } else {
                var text = Self.pad(m.label, 34) + Self.pad(Self.humanRate(m.value), 12) + " " + m.unit
                if let baseline = m.baseline, let ratio = m.ratio {
                    text += "   (baseline \(Self.humanRate(baseline)) \(m.unit), ratio \(Self.fixed(ratio, places: 2))x)"
                }
                BenchOutput.write(text + "\n")
            }
        }

        /// Prints a free-form line in text mode only.
        func note(_ text: String) {
            guard !json else { return }
            BenchOutput.write(text + "\n")
        }

        /// `value` rounded to `places` decimal places.
        static func rounded(_ value: Double, places: Int) -> Double {
            var scale = 1.0
            for _ in 0..<places { scale *= 10 }
            return (value * scale).rounded() / scale
        }

        /// `value` as text with exactly `places` decimal places.
        static func fixed(_ value: Double, places: Int) -> String {
            var scale = 1
            for _ in 0..<places { scale *= 10 }
            let scaled = Int((value * Double(scale)).rounded())
            let whole = scaled / scale
            let fraction = String(scaled % scale)
            return "\(whole)." + String(repeating: "0", count: places - fraction.count) + fraction
        }

        /// `value` with a k, M or G suffix and two decimals (one below 1,000).
        static func humanRate(_ value: Double) -> String {
            if value >= 1e9 { return fixed(value / 1e9, places: 2) + " G" }
            if value >= 1e6 { return fixed(value / 1e6, places: 2) + " M" }
            if value >= 1e3 { return fixed(value / 1e3, places: 2) + " k" }
            return fixed(value, places: 1)
        }

        /// `text` padded with spaces to `width` characters (or followed by one space when longer).
        static func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
        }
    }
}
