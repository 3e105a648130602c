import CleverMessaging
import NIOCore
import Testing

/// The `server_ip` beacon frame: the reference vector, Python float text, lenient parsing.
@Suite("Discovery: server announcement frame")
struct DiscoveryAnnouncementTests {
    static let vectorAnnouncement = ServerAnnouncement(host: "192.168.1.10", port: 25000, id: "0815", startTime: 1700000000.123)

    static func decodeOne(_ bytes: [UInt8]) throws -> Frame? {
        var buffer = ByteBuffer(bytes: bytes)
        var decoder = FrameDecoder()
        guard case .frame(let frame)? = try decoder.decode(buffer: &buffer) else { return nil }
        #expect(buffer.readableBytes == 0)
        return frame
    }

    static func encode(_ frame: Frame) throws -> [UInt8] {
        var buffer = ByteBuffer()
        var writer = FrameWriter()
        try writer.write(frame, into: &buffer)
        return Array(buffer.readableBytesView)
    }

    @Test("vector server_ip_beacon decodes to the announcement")
    func vectorDecodes() throws {
        let frame = try #require(try Self.decodeOne(Vectors.named("server_ip_beacon").bytes))
        let announcement = try #require(ServerAnnouncement(frame: frame))
        #expect(announcement == Self.vectorAnnouncement)
    }

    @Test("encoding the announcement gives the vector's bytes exactly")
    func vectorEncodes() throws {
        let bytes = try Self.encode(Self.vectorAnnouncement.frame)
        let expected = Vectors.named("server_ip_beacon").bytes
        #expect(bytes == expected, "\(String(decoding: bytes, as: UTF8.self))")
    }

    @Test("the beacon's datagram is the vector")
    func beaconDatagram() throws {
        let beacon = DiscoveryBeacon(announcement: Self.vectorAnnouncement)
        let datagram = try beacon.datagram()
        #expect(Array(datagram.readableBytesView) == Vectors.named("server_ip_beacon").bytes)
    }

    @Test(
        "start_time is written as Python's str(float)",
        arguments: [
            (1700000000.123, "1700000000.123"),
            (1700000000.0, "1700000000.0"),
            (1712345678.9876543, "1712345678.9876542"),
            (3.0, "3.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (100.0, "100.0"),
            (0.0001, "0.0001"),
            (0.00012345, "0.00012345"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e15, "1000000000000000.0"),
            (1234567890123456.7, "1234567890123456.8"),
            (9999999999999998.0, "9999999999999998.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e22, "1e+22"),
            (1.5e300, "1.5e+300"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (Double.leastNonzeroMagnitude, "5e-324"),
            (Double.infinity, "inf"),
            (-Double.infinity, "-inf"),
            (Double.nan, "nan"),
        ] as [(Double, String)]
    )
    func pythonFloat(value: Double, expected: String) {
        #expect(ServerAnnouncement.pythonFloatString(value) == expected)
    }

    @Test("str(float) matches CPython on random values")
    func pythonFloatMatchesCPython() async throws {
        var values: [Double] = [1e16, 1e-4, 9.999999999999999e-5, 9999999999999999.0, 0.5, 9007199254740992.0, 18014398509481984.0]
        for _ in 0..<1500 {
            let bits = UInt64.random(in: 0...UInt64.max)
            let value = Double(bitPattern: bits)
            if value.isFinite { values.append(value) }
            values.append(Double.random(in: 1.6e9...1.8e9))
            values.append(Double.random(in: 1...10) * pow10(Int.random(in: -8...20)))
        }
        let input = values.map { String($0.bitPattern, radix: 16) }.joined(separator: "\n")
        let script = """
            import sys, struct
            for line in sys.stdin.read().split():
                print(str(struct.unpack('<d', int(line, 16).to_bytes(8, 'little'))[0]))
            """
        let lines = try await PythonInterop.run(script: script, input: input).split(separator: "\n")
        try #require(lines.count == values.count)
        for (value, python) in zip(values, lines) where ServerAnnouncement.pythonFloatString(value) != python {
            Issue.record("\(value.bitPattern): Swift \(ServerAnnouncement.pythonFloatString(value)), Python \(python)")
        }
    }

    private func pow10(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<abs(exponent) { result *= 10 }
        return exponent < 0 ? 1 / result : result
    }

    @Test("start_time round-trips through the frame")
    func startTimeRoundTrip() throws {
        for time in [1700000000.123, 1712345678.9876543, 1.0, 0.1, 1e-7, 1e17] {
            let announcement = ServerAnnouncement(host: "127.0.0.1", port: 1, id: "1", startTime: time)
            let frame = try #require(try Self.decodeOne(Self.encode(announcement.frame)))
            #expect(ServerAnnouncement(frame: frame) == announcement)
        }
    }

    @Test("numbers are accepted for port, start_time and id")
    func lenientParsing() throws {
        let frame = Frame.action(
            "server_ip",
            kwargs: ["host": "10.0.0.2", "port": 26000, "id": 42, "start_time": 1700000000.5]
        )
        #expect(ServerAnnouncement(frame: frame) == ServerAnnouncement(host: "10.0.0.2", port: 26000, id: "42", startTime: 1700000000.5))
        let intTime = Frame.action("server_ip", kwargs: ["host": "h", "port": " 25000 ", "id": "a", "start_time": 1700000000])
        #expect(ServerAnnouncement(frame: intTime)?.startTime == 1700000000)
        #expect(ServerAnnouncement(frame: intTime)?.port == 25000)
    }

    @Test("malformed announcements are refused")
    func malformed() {
        let good: JSONObject = ["host": "10.0.0.2", "port": "25000", "id": "1", "start_time": "1.5"]
        #expect(ServerAnnouncement(frame: .action("server_ip", kwargs: good)) != nil)
        #expect(ServerAnnouncement(frame: .action("other", kwargs: good)) == nil)
        var variants: [JSONObject] = []
        for key in good.keys {
            var missing = good
            missing.removeValue(forKey: key)
            variants.append(missing)
        }
        for (key, value) in [
            ("host", JSONValue.string("")), ("host", 5), ("port", "abc"), ("port", "0"), ("port", "70000"),
            ("port", 2.5), ("port", .null), ("id", .null), ("id", [1]), ("start_time", "soon"),
            ("start_time", "nan"), ("start_time", "inf"), ("start_time", .bool(true)),
        ] as [(String, JSONValue)] {
            var bad = good
            bad[key] = value
            variants.append(bad)
        }
        for kwargs in variants {
            #expect(ServerAnnouncement(frame: .action("server_ip", kwargs: kwargs)) == nil, "\(kwargs)")
        }
        let request = Frame.request("server_ip", id: "0001", kwargs: good)
        #expect(ServerAnnouncement(frame: request) == nil)
        let noKwargs = Frame(header: Frame.action("server_ip").header, content: .json(["args": []]))
        #expect(ServerAnnouncement(frame: noKwargs) == nil)
    }

    @Test("the duplicate-server rule: only a different id that started strictly earlier wins")
    func guardRule() {
        let own = DuplicateServerGuard(id: "0001", startTime: 1000)
        func other(_ id: String, _ time: Double) -> ServerAnnouncement {
            ServerAnnouncement(host: "127.0.0.1", port: 1, id: id, startTime: time)
        }
        #expect(own.mustYield(to: other("0002", 990)))
        #expect(!own.mustYield(to: other("0002", 1000)))
        #expect(!own.mustYield(to: other("0002", 1010)))
        #expect(!own.mustYield(to: other("0001", 990)))
        #expect(
            DuplicateServerGuard.shutdownMessage(for: other("0002", 990.25))
                == "another server 0002 started earlier at 990.25, shutting down"
        )
    }

    @Test("localIPAddress is localhost or a non-loopback dotted IPv4 address")
    func ipAddress() {
        let address = localIPAddress()
        if address != "localhost" {
            let parts = address.split(separator: ".", omittingEmptySubsequences: false)
            #expect(parts.count == 4, "\(address)")
            #expect(parts.allSatisfy { UInt8($0) != nil }, "\(address)")
            #expect(!address.hasPrefix("127."), "\(address)")
            #expect(NetworkInterfaces.ipv4Addresses().first == address)
        } else {
            #expect(NetworkInterfaces.ipv4Addresses().isEmpty)
        }
    }
}
