/// Percentiles of a sample of durations in nanoseconds.
struct Percentiles {
    let p50: Double
    let p99: Double

    init(_ sample: [Int64]) {
        let sorted = sample.sorted()
        func at(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))])
        }
        p50 = at(0.50)
        p99 = at(0.99)
    }
}
