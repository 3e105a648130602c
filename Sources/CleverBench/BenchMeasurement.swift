extension Bench {
    /// One reported number.
    struct Measurement {
        /// A stable name, e.g. `codec.decode`.
        var name: String
        /// The best rate measured.
        var value: Double
        /// The unit of ``value`` (and of ``baseline``), e.g. `frames/s`.
        var unit: String
        /// The rate of the baseline doing the same work, if there is one.
        var baseline: Double?
        /// A short human description.
        var label: String

        /// `value / baseline`, if there is a baseline.
        var ratio: Double? { baseline.map { value / $0 } }
    }
}
