import CleverMessaging
import Testing

@testable import clever_msg

/// The console's lines for a command over several drones: one per drone in
/// natural order, skipped ones in the one error format, then the summary.
@Suite("CLI: per-drone lines and summary of send and request")
struct ReachReportTests {
    @Test("a skipped drone gets an error line with why; the summary counts the skipped by reason")
    func lines() {
        let results = SendResults([
            .init(droneID: "copter-10", result: .failure(.notConnected)),
            .init(droneID: "copter-2", result: .failure(.queueFull(queuedBytes: 9, limit: 8))),
            .init(droneID: "ghost", result: .failure(.notConnected), skipReason: .unknown),
            .init(droneID: "copter-9", result: .failure(.notConnected)),
        ])
        let report = ReachReport(results, command: "send", name: "takeoff", verb: "sent to")
        let texts = report.lines.map { line -> String in
            switch line {
            case .reached(let id, _): return "\(id): sent"
            case .skipped(let error): return error.text
            }
        }
        #expect(texts == [
            "copter-2: error: send queue full: 9 bytes queued, limit 8",
            "copter-9: error: disconnected",
            "copter-10: error: disconnected",
            "ghost: error: unknown drone (never connected)",
        ])
        #expect(report.summary == "sent to 0 of 4; 2 disconnected: copter-9, copter-10; 1 unknown: ghost; 1 refused: copter-2")
        #expect(report.summaryJSON["summary"]?["skipped"]?["disconnected"] == ["copter-9", "copter-10"])
        #expect(report.summaryJSON["summary"]?["total"] == 4)
        guard case .skipped(let disconnected) = report.lines[1] else {
            Issue.record("copter-9 is not skipped")
            return
        }
        #expect(disconnected.json == ["id": "copter-9", "error": ["code": "disconnected", "message": "disconnected"]])
    }

    @Test("drones reached keep their values; a remote error keeps its code")
    func values() {
        let results = DroneResults<JSONValue>([
            .init(droneID: "b", result: .failure(.remote(RemoteError(code: "unknown_request", message: "no")))),
            .init(droneID: "a", result: .success(.integer(3))),
        ])
        let report = ReachReport(results, command: "request", name: "telemetry", verb: "answered")
        guard case .reached("a", .integer(3)) = report.lines[0], case .skipped(let error) = report.lines[1] else {
            Issue.record("\(report.lines)")
            return
        }
        #expect(error.code == "remote")
        #expect(report.summary == "answered 1 of 2; 1 remote error: b")
    }
}
