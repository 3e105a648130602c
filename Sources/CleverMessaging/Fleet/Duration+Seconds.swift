extension Duration {
    /// The duration in seconds, as a `Double`.
    package var inSeconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }

    /// The duration in milliseconds, as a `Double`.
    package var inMilliseconds: Double { inSeconds * 1000 }
}
