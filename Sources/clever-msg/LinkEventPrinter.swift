import CleverMessaging
import Foundation

/// Prints a drone's link events as they happen: connecting, each failed
/// attempt with its reason and the delay before the next, connected and
/// disconnected (`clever-msg drone`, with or without `--verbose`).
struct LinkEventPrinter: Sendable {
    /// Where lines go.
    let out: LinePrinter

    /// Prints every event of `events` until the stream ends (when the client's `run()` returns).
    /// - Parameter events: the client's events (``MessagingClient/events()``).
    func printAll(_ events: AsyncStream<MessagingClient.Event>) async {
        for await event in events { print(event) }
    }

    /// Prints one event.
    /// - Parameter event: what happened to the link.
    func print(_ event: MessagingClient.Event) {
        switch event {
        case .connecting(let host, let port, let attempt):
            // Later attempts in a row were announced by the failure before them.
            guard attempt == 1 else { return }
            out.print(["event": "connecting", "server": .string("\(host):\(port)")], text: "connecting to \(host):\(port)")
        case .connected(let host, let port):
            out.print(["event": "connected", "server": .string("\(host):\(port)")], text: "connected to \(host):\(port)")
        case .disconnected(let host, let port):
            out.print(["event": "disconnected", "server": .string("\(host):\(port)")], text: "disconnected from \(host):\(port)")
        case .connectFailed(let host, let port, let attempt, let reason, let retryIn):
            var object: JSONObject = [
                "event": "connect_failed", "server": .string("\(host):\(port)"), "attempt": .integer(attempt), "reason": .string(reason),
            ]
            guard let retryIn else {
                out.print(object, text: "cannot connect to \(host):\(port) (attempt \(attempt)): \(reason); listening for a discovery beacon")
                return
            }
            let seconds = Double(retryIn.components.seconds) + Double(retryIn.components.attoseconds) / 1e18
            object["retry_in"] = .double((seconds * 10).rounded() / 10)
            out.print(object, text: "retrying in \(String(format: "%.1f", seconds)) s: \(reason) (attempt \(attempt), \(host):\(port))")
        }
    }
}
