import CleverMessaging
import Foundation
import NIOCore

extension Bench.SwarmScale {
    /// What the telemetry window measured.
    struct TelemetryWindow {
        /// Station CPU seconds over wall seconds in the window (1.0: one core busy).
        var stationCPUShare: Double
        /// The 99th percentile of the latest records' ages at the end of the window, in seconds.
        var ageP99: Double
        /// The median of those ages, in seconds.
        var ageP50: Double
        /// Records the station received per second during the window.
        var recordsPerSecond: Double
        /// Drones with a record at the end of the window.
        var dronesWithRecords: Int
    }

    /// Lets the swarm push telemetry for a warm-up, then measures the station
    /// process's CPU time over `window` of wall time while the swarm pushes, and
    /// samples the age of every drone's latest record at its end.
    static func measureTelemetry(station: GroundStation, hertz: Double, window: Duration, expected count: Int) async throws -> TelemetryWindow {
        // A warm-up: every drone pushed at least twice.
        let period = TelemetryPublisher(hertz: hertz).period
        try await Task.sleep(for: max(.seconds(1), period * 2))
        let clock = ContinuousClock()
        let pushesBefore = station.latestTelemetry.reduce(0) { $0 + $1.count }
        let cpuBefore = ProcessCPU.seconds(pid: getpid())
        let start = clock.now
        try await Task.sleep(for: window)
        let cpu = ProcessCPU.seconds(pid: getpid()) - cpuBefore
        let wall = start.duration(to: clock.now)
        let ages = station.telemetryAges.map { Int64($0.components.seconds) * 1_000_000_000 + $0.components.attoseconds / 1_000_000_000 }
        let pushesAfter = station.latestTelemetry.reduce(0) { $0 + $1.count }
        let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        let percentiles = Percentiles(ages)
        return TelemetryWindow(
            stationCPUShare: cpu / seconds,
            ageP99: percentiles.p99 / 1e9,
            ageP50: percentiles.p50 / 1e9,
            recordsPerSecond: Double(pushesAfter - pushesBefore) / seconds,
            dronesWithRecords: ages.count
        )
    }

    /// Reports the telemetry window's measurements.
    static func report(_ telemetry: TelemetryWindow, count: Int, hertz: Double, window: Duration, to reporter: Bench.Reporter) {
        reporter.note(
            "\(count) drones pushing \(hertz) Hz for \(window): \(telemetry.dronesWithRecords) with a record, "
                + "\(Int(telemetry.recordsPerSecond.rounded())) records/s received (expected \(Int((Double(count) * hertz).rounded())))"
        )
        reporter.report(Bench.Measurement(
            name: "swarm.telemetry.station_cpu", value: telemetry.stationCPUShare * 100, unit: "%", baseline: nil,
            label: "station CPU share while the swarm pushes"
        ))
        reporter.report(Bench.Measurement(
            name: "swarm.telemetry.age_p99", value: telemetry.ageP99 * 1000, unit: "ms", baseline: nil,
            label: "p99 age of the latest records"
        ))
        reporter.report(Bench.Measurement(
            name: "swarm.telemetry.age_p50", value: telemetry.ageP50 * 1000, unit: "ms", baseline: nil,
            label: "median age of the latest records"
        ))
    }
}
