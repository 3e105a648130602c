import CleverMessaging
import Foundation
import Testing

@testable import clever_msg

/// `watch`: its table, the screen hold that gives it the keys, and the
/// command itself on a pseudo-terminal.
@Suite("CLI: watch")
struct WatchTests {
    static let statistics = LinkStatistics(
        roundTrip: .microseconds(1_250), roundTripVariation: .microseconds(300),
        bytesSent: 3 * 1024 * 1024 + 200, bytesReceived: 812, retransmissions: 2
    )

    @Test("a row shows the link, rtt, offset, telemetry age and bytes; a drone without a link shows dashes")
    func rows() {
        var up = WatchTable.Row(id: "copter-2", connected: true, links: 3, statistics: Self.statistics)
        up.clockOffset = .milliseconds(-1200)
        up.telemetryAge = .milliseconds(350)
        let down = WatchTable.Row(id: "copter-10", connected: false, links: 1)
        #expect(up.cells == ["copter-2", "up", "3", "1.3 ms", "-1200.0 ms", "0.4 s", "3.0 MiB / 812 B"])
        #expect(down.cells == ["copter-10", "down", "1", "-", "-", "-", "-"])
        #expect(up.json["rtt_ms"] == .double(1.25))
        #expect(up.json["offset_ms"] == .double(-1200))
        #expect(up.json["bytes_out"] == .integer(3 * 1024 * 1024 + 200))
        #expect(down.json == ["id": "copter-10", "connected": false, "links": 1])
    }

    @Test("the screen fits its height: rows that do not fit are counted on the last line")
    func screenHeight() {
        let rows = (1...50).map { WatchTable.Row(id: "copter-\($0)", connected: true, links: 1) }
        let screen = WatchTable(rows: rows).screen(title: "title", height: 10)
        #expect(screen.count == 9)
        #expect(screen[0] == "title")
        #expect(screen[1].hasPrefix("ID"))
        #expect(screen[2].hasPrefix("copter-1 "))
        #expect(screen.last == "… and 44 more")
        let all = WatchTable(rows: Array(rows.prefix(3))).screen(title: "t", height: 10)
        #expect(all.count == 5)
    }

    @Test("byte counts read as B, KiB, MiB, GiB")
    func byteUnits() {
        #expect(WatchTable.Row.bytes(0) == "0 B")
        #expect(WatchTable.Row.bytes(1023) == "1023 B")
        #expect(WatchTable.Row.bytes(1536) == "1.5 KiB")
        #expect(WatchTable.Row.bytes(5 * 1024 * 1024 * 1024) == "5.0 GiB")
    }

    @Test("a held screen takes every key and holds printed lines until released")
    func screenHold() {
        var hold = ScreenHold()
        let keyWhileFree = hold.keyPressed()
        let lineWhileFree = hold.hold("before")
        #expect(!keyWhileFree && !lineWhileFree)
        hold.take()
        let held = hold.hold("+ copter-1 connected")
        let taken = hold.keyPressed()
        #expect(held && taken)
        let released = hold.release()
        #expect(released == ["+ copter-1 connected"])
        #expect(!hold.isHeld)
        let keyAfter = hold.keyPressed()
        #expect(!keyAfter)
    }

    @Test("a key pressed before the wait, or a cancelled wait, ends the wait at once")
    func keyWait() async {
        let screen = HeldScreen()
        await screen.nextKey()  // not held: returns
        screen.take()
        #expect(screen.keyPressed())
        await screen.nextKey()  // the key came first
        screen.take()
        let waiting = Task { await screen.nextKey() }
        waiting.cancel()
        await waiting.value  // cancelled: returns
        screen.take()
        let pressed = Task { await screen.nextKey() }
        // Whether the key comes before or after the wait begins, the wait ends.
        #expect(screen.keyPressed())
        await pressed.value
        screen.take()
        let released = Task { await screen.nextKey() }
        #expect(screen.release().isEmpty)
        await released.value
    }

    @Test("watch on a terminal: the table comes up, redraws, leaves on a key; lines printed meanwhile come after")
    func watchOnATerminal() async throws {
        let binary = try #require(CleverMsgBinary.url, "clever-msg was not built")
        let script = Vectors.packageRoot.appendingPathComponent("Tests/Interop/watch_pty.py").path
        let output = try await ChildProcess.run(try PythonInterop.findPython(), [script, binary.path])
        let report = try JSONParser.parse(Array(output.stdout))
        let raw = report["raw"] ?? .null
        #expect(report["failure"] == nil, "\(raw)")
        #expect(report["entered"] == true, "\(raw)")
        #expect(report["row"] == true, "\(raw)")
        #expect((report["redraws"]?.integerValue ?? 0) >= 2, "\(raw)")
        #expect(report["left"] == true, "\(raw)")
        #expect(report["held"] == true, "\(raw)")
        #expect(report["exit"] == 0, "\(raw)")
    }
}

