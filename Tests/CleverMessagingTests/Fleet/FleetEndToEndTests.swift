import Testing

/// The fleet's end-to-end suites, one after the other: they measure clocks and
/// handler times to the millisecond, which other suites of this group running
/// at the same moment would disturb.
@Suite("Fleet end to end", .serialized)
enum FleetEndToEndTests {}
