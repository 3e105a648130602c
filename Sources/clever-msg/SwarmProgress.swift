import CleverMessaging
import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `swarm`'s one progress line and its summary: on a terminal the line is
/// rewritten in place (`\r`); through a pipe a line is printed when the
/// numbers changed, at most once a second. The line counts the whole swarm:
/// drones connected of all, failing and reconnecting, links that came up again
/// (reconnects), actions and files received. The summary is printed when every
/// drone is connected, and when the swarm stops (``printSummary()``).
final class SwarmProgress: Sendable {
    private struct State {
        var tally: SwarmTally
        /// The line last drawn (nothing is drawn twice).
        var drawn = ""
        /// When the whole swarm was first connected.
        var allConnected: Duration?
        /// When ``freeze()`` was called: later events are not counted.
        var frozen: Duration?
    }

    private let out: LinePrinter
    private let isTerminal: Bool
    private let started = ContinuousClock.now
    private let state: NIOLockedValueBox<State>

    /// Creates the progress of `count` drones.
    /// - Parameters:
    ///   - count: how many drones.
    ///   - out: where lines go (its `clearsLine` set on a terminal).
    ///   - isTerminal: whether standard output is a terminal.
    init(count: Int, out: LinePrinter, isTerminal: Bool) {
        self.out = out
        self.isTerminal = isTerminal
        self.state = NIOLockedValueBox(State(tally: SwarmTally(count: count)))
    }

    /// Counts drone `index`'s link events from now on.
    func watch(_ client: MessagingClient, drone index: Int) {
        client.observeEvents { [self] event in
            let allConnected = state.withLockedValue { s -> Bool in
                guard s.frozen == nil else { return false }
                s.tally.record(event, drone: index)
                guard s.allConnected == nil, s.tally.connected == s.tally.count else { return false }
                s.allConnected = ContinuousClock.now - started
                return true
            }
            if allConnected { printSummary() }
        }
    }

    /// Counts one action received by some drone.
    func recordAction() {
        state.withLockedValue { s in
            if s.frozen == nil { s.tally.recordAction() }
        }
    }

    /// Counts one file received by some drone.
    func recordFile() {
        state.withLockedValue { s in
            if s.frozen == nil { s.tally.recordFile() }
        }
    }

    /// Redraws the progress line until cancelled: every 100 ms on a terminal, every second through a pipe.
    func run() async {
        let interval: Duration = isTerminal ? .milliseconds(100) : .seconds(1)
        while !Task.isCancelled {
            draw()
            try? await Task.sleep(for: interval)
        }
    }

    /// Draws the progress line if its numbers changed.
    private func draw() {
        let line = state.withLockedValue { s -> String? in
            let t = s.tally
            var text = "swarm: \(t.connected)/\(t.count) connected"
            if t.failing > 0 { text += ", \(t.failing) failing" }
            let dropped = t.count - t.connected - t.failing - t.waiting
            if dropped > 0 { text += ", \(dropped) reconnecting" }
            if t.reconnects > 0 { text += ", \(t.reconnects) reconnects" }
            if t.actions > 0 { text += ", \(t.actions) actions" }
            if t.files > 0 { text += ", \(t.files) files" }
            guard text != s.drawn else { return nil }
            s.drawn = text
            return text
        }
        guard let line else { return }
        let elapsed = Self.seconds(ContinuousClock.now - started)
        let object: JSONObject = state.withLockedValue { s in
            ["progress": "swarm", "connected": .integer(s.tally.connected), "failing": .integer(s.tally.failing), "drones": .integer(s.tally.count),
             "reconnects": .integer(s.tally.reconnects), "actions": .integer(s.tally.actions), "files": .integer(s.tally.files),
             "seconds": .double(elapsed)]
        }
        if isTerminal && !out.json {
            // In place: back to the line's start, the line, the rest of the old one erased.
            Self.writeOut("\r\(line)\u{1B}[K")
        } else {
            out.print(object, text: line)
        }
    }

    /// Prints the summary: how many drones, connected, failed (with the reasons,
    /// grouped), and how long it took.
    func printSummary() {
        let (tally, until) = state.withLockedValue { s in (s.tally, s.allConnected ?? s.frozen) }
        let elapsed = Self.seconds(until ?? (ContinuousClock.now - started))
        let reasons = tally.failureReasons
        var object: JSONObject = [
            "summary": "swarm", "drones": .integer(tally.count), "connected": .integer(tally.connected),
            "failed": .integer(tally.failing), "seconds": .double(elapsed),
            "reconnects": .integer(tally.reconnects), "actions": .integer(tally.actions), "files": .integer(tally.files),
        ]
        if !reasons.isEmpty {
            var failures: JSONObject = [:]
            for (reason, drones) in reasons { failures[reason] = .integer(drones) }
            object["failures"] = .object(failures)
        }
        var text = "swarm: \(tally.count) drones, \(tally.connected) connected, \(tally.failing) failed, in \(String(format: "%.1f", elapsed)) s"
        for (reason, drones) in reasons { text += "\n  \(drones) failed: \(reason)" }
        out.print(object, text: text)
    }

    /// Stops counting: the summary then tells how the swarm stood at this moment
    /// (its links closing as it stops are not failures).
    func freeze() {
        let now = ContinuousClock.now - started
        state.withLockedValue { s in
            if s.frozen == nil { s.frozen = now }
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return (value * 10).rounded() / 10
    }

    private static func writeOut(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
    }
}
