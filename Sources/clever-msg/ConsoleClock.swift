import CleverMessaging
import Foundation

/// The console's clock commands: `clock` (each drone's clock offset, measured
/// now) and `start-at` (a timed start).
extension Console {
    /// `clock [TARGET]`: measures the drones' clocks now; a line per drone
    /// (offset, uncertainty, round trip in milliseconds), then a summary.
    func clock(_ words: [String]) async throws {
        let given = try arguments(words, "clock", required: 0, optional: 1)
        let ids = try reachTargets(given.first ?? "all")
        let results = await station.measureClocks(of: ids)
        try Task.checkCancellation()
        report(results, command: "clock", name: "clock", verb: "measured") { id, offset in
            say(Self.json(offset, id: id), text: "\(id): \(Self.text(offset))")
        }
    }

    /// `start-at SECONDS ACTION [KWARGS_JSON] [TARGET]`: a timed start SECONDS
    /// from now; a line per drone (acknowledged or sent, retries, the instant on
    /// its clock), then a summary.
    func startAt(_ words: [String]) async throws {
        let given = try arguments(words, "start-at", required: 2, optional: 1)
        let seconds = try ConsoleArguments.seconds(given[0], name: "SECONDS")
        let action = given[1]
        let (kwargsText, target) = Self.splitKwargsAndTarget(given.count > 2 ? given[2] : "")
        let (_, kwargs) = try ConsoleArguments.messageArguments(kwargsText)
        let ids = try reachTargets(target ?? "all")
        let instant = Date().timeIntervalSince1970 + Double(seconds.components.seconds) + Double(seconds.components.attoseconds) / 1e18
        say(["start_at": .double(instant), "action": .string(action)],
            text: "starting \(action) at \(String(format: "%.3f", instant)) (in \(LogFormat.duration(seconds)))")
        let results = await station.start(at: instant, action: action, kwargs: kwargs, targets: ids)
        try Task.checkCancellation()
        report(results, command: "start-at", name: action, verb: "acknowledged by") { id, receipt in
            var object: JSONObject = [
                "id": .string(id), "confirmation": .string(receipt.confirmation.rawValue), "retries": .integer(receipt.retries),
                "drone_time": .double(receipt.droneTime), "offset_ms": .double(Self.milliseconds(receipt.clockOffset.offset)),
            ]
            object["action"] = .string(action)
            say(object, text: "\(id): \(receipt.confirmation.rawValue), retried \(receipt.retries) times, at \(String(format: "%.6f", receipt.droneTime)) on its clock (offset \(Self.signed(receipt.clockOffset.offset)) ms)")
        }
    }

    /// The KWARGS_JSON and the TARGET of what follows ACTION: a JSON object
    /// (up to its last `}`) and a target after it, or just a target.
    static func splitKwargsAndTarget(_ rest: String) -> (kwargs: String, target: String?) {
        let text = rest.trimmingCharacters(in: .whitespaces)
        guard text.hasPrefix("{") else { return ("", text.isEmpty ? nil : text) }
        guard let close = text.lastIndex(of: "}") else { return (text, nil) }
        let after = text[text.index(after: close)...].trimmingCharacters(in: .whitespaces)
        return (String(text[...close]), after.isEmpty ? nil : after)
    }

    /// `{"id", "offset_ms", "uncertainty_ms", "rtt_ms", "method"}`.
    static func json(_ offset: ClockOffset, id: String) -> JSONObject {
        [
            "id": .string(id), "offset_ms": .double(milliseconds(offset.offset)),
            "uncertainty_ms": .double(milliseconds(offset.uncertainty)), "rtt_ms": .double(milliseconds(offset.roundTrip)),
            "method": .string(offset.method.rawValue),
        ]
    }

    /// `offset_ms +250.012 uncertainty_ms 0.041 rtt_ms 0.082 (exchange)`.
    static func text(_ offset: ClockOffset) -> String {
        "offset_ms \(signed(offset.offset)) uncertainty_ms \(String(format: "%.3f", milliseconds(offset.uncertainty))) "
            + "rtt_ms \(String(format: "%.3f", milliseconds(offset.roundTrip))) (\(offset.method.rawValue))"
    }

    /// A duration in milliseconds, rounded to the microsecond.
    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return ((Double(seconds) * 1e3 + Double(attoseconds) / 1e15) * 1000).rounded() / 1000
    }

    /// Milliseconds with a sign: `+250.012`, `-1200.003`.
    static func signed(_ duration: Duration) -> String {
        String(format: "%+.3f", milliseconds(duration))
    }
}
