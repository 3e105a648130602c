import Foundation
import NIOCore
import Testing

@testable import CleverMessaging

/// Signed discovery beacons as pure values: signing, verifying on explicit instants, the key file.
@Suite("Discovery: signed beacons")
struct BeaconVerifierTests {
    static let announcement = ServerAnnouncement(host: "192.168.1.10", port: 25000, id: "0815", startTime: 1700000000.123)
    static let key = try! DiscoveryKey(text: "correct horse battery staple")
    static let otherKey = try! DiscoveryKey(text: "correct horse battery stapler")
    static let signedAt = 1_765_000_000.25
    static let verifier = BeaconVerifier(key: key)

    static func signed(at time: Double = signedAt, key: DiscoveryKey = key) throws -> ByteBuffer {
        try BeaconVerifier.signedDatagram(announcement, key: key, at: time)
    }

    static func unsigned() throws -> ByteBuffer {
        try DiscoveryBeacon(announcement: announcement).datagram()
    }

    @Test("a signed beacon is accepted at its signing time and anywhere within 10 s of it, either way")
    func signedAccepted() throws {
        let datagram = try Self.signed()
        for offset in [0.0, 0.5, -0.5, 9.999, -9.999, 10, -10] {
            #expect(Self.verifier.verify(datagram, now: Self.signedAt + offset) == .success(Self.announcement), "offset \(offset)")
        }
        // A listener without a key accepts it too, as it accepts an unsigned one.
        #expect(BeaconVerifier().verify(datagram, now: 0) == .success(Self.announcement))
        #expect(BeaconVerifier().verify(try Self.unsigned(), now: 0) == .success(Self.announcement))
    }

    @Test("an unsigned beacon is ignored by a listener with a key: unsigned")
    func unsignedIgnored() throws {
        #expect(Self.verifier.verify(try Self.unsigned(), now: Self.signedAt) == .failure(.unsigned))
        let vector = ByteBuffer(bytes: Vectors.named("server_ip_beacon").bytes)
        #expect(Self.verifier.verify(vector, now: Self.signedAt) == .failure(.unsigned))
    }

    @Test("a beacon signed with another key, or changed after signing, is ignored: bad signature")
    func wronglySignedIgnored() throws {
        #expect(Self.verifier.verify(try Self.signed(key: Self.otherKey), now: Self.signedAt) == .failure(.badSignature))

        // The port changed from 25000 to 25001 in the content: same length, different bytes.
        var bytes = Array(try Self.signed().readableBytesView)
        let text = Array("\"25000\"".utf8)
        let at = try #require(bytes.indices.first { bytes[$0...].starts(with: text) })
        bytes[at + 5] = UInt8(ascii: "1")
        #expect(Self.verifier.verify(ByteBuffer(bytes: bytes), now: Self.signedAt) == .failure(.badSignature))

        // The signing time changed: the MAC covers it.
        var moved = Array(try Self.signed().readableBytesView)
        let time = Array(String(BeaconVerifier.milliseconds(Self.signedAt)).utf8)
        let timeAt = try #require(moved.indices.first { moved[$0...].starts(with: time) })
        moved[timeAt + time.count - 1] = moved[timeAt + time.count - 1] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        #expect(Self.verifier.verify(ByteBuffer(bytes: moved), now: Self.signedAt) == .failure(.badSignature))
    }

    @Test("malformed signatures and signing times are bad signatures, not crashes")
    func malformedSignature() throws {
        func datagram(mac: JSONValue?, time: JSONValue?) throws -> ByteBuffer {
            var frame = Self.announcement.frame
            frame.header.extra[BeaconVerifier.timeKey] = time
            frame.header.extra[BeaconVerifier.signatureKey] = mac
            var out = ByteBuffer()
            var writer = FrameWriter()
            try writer.write(frame, into: &out)
            return out
        }
        var signed = try Self.signed()
        var decoder = FrameDecoder()
        guard case .frame(let frame)? = try decoder.decode(buffer: &signed) else { Issue.record("no frame"); return }
        let mac = try #require(frame.header.extra[BeaconVerifier.signatureKey])
        let time = try #require(frame.header.extra[BeaconVerifier.timeKey])
        #expect(time == .integer(BeaconVerifier.milliseconds(Self.signedAt)))
        #expect(try Self.verifier.verify(datagram(mac: mac, time: time), now: Self.signedAt) == .success(Self.announcement))
        let cases: [(JSONValue?, JSONValue?)] = [
            (mac, nil), (mac, .string("1765000000250")), (mac, .double(1765000000250)), (mac, .integer(Int.min)),
            (.string("zz"), time), (.string(String(repeating: "g", count: 64)), time), (.integer(1), time),
            (.string(String(repeating: "0", count: 64)), time), (.string(String(repeating: "0", count: 66)), time),
        ]
        for (m, t) in cases {
            #expect(try Self.verifier.verify(datagram(mac: m, time: t), now: Self.signedAt) == .failure(.badSignature), "\(String(describing: m)) \(String(describing: t))")
        }
        // Upper-case hex is the same signature.
        #expect(try Self.verifier.verify(datagram(mac: .string(mac.stringValue!.uppercased()), time: time), now: Self.signedAt) == .success(Self.announcement))
    }

    @Test("a beacon signed more than 10 s ago is expired; more than 10 s ahead, from the future")
    func staleIgnored() throws {
        let datagram = try Self.signed()
        #expect(Self.verifier.verify(datagram, now: Self.signedAt + 10.001) == .failure(.expired))
        #expect(Self.verifier.verify(datagram, now: Self.signedAt + 3600) == .failure(.expired))
        #expect(Self.verifier.verify(datagram, now: Self.signedAt - 10.001) == .failure(.fromTheFuture))
        #expect(Self.verifier.verify(datagram, now: 0) == .failure(.fromTheFuture))
        // Extreme clocks do not overflow.
        #expect(Self.verifier.verify(datagram, now: .infinity) == .failure(.expired))
        #expect(Self.verifier.verify(datagram, now: -.infinity) == .failure(.fromTheFuture))
        #expect(Self.verifier.verify(datagram, now: .nan) == .failure(.fromTheFuture))
        // The window is the verifier's.
        let wide = BeaconVerifier(key: Self.key, replayWindow: .seconds(60))
        #expect(wide.verify(datagram, now: Self.signedAt + 59) == .success(Self.announcement))
        let exact = BeaconVerifier(key: Self.key, replayWindow: .zero)
        #expect(exact.verify(datagram, now: Self.signedAt) == .success(Self.announcement))
        #expect(exact.verify(datagram, now: Self.signedAt + 0.001) == .failure(.expired))
    }

    @Test("garbage is malformed, with or without a key")
    func malformed() {
        for bytes: [UInt8] in [[], [0, 2, 0x7b, 0x7d], [0xde, 0xad, 0xbe, 0xef], Array(Vectors.named("action_simple").bytes)] {
            guard case .failure(.malformed) = Self.verifier.verify(ByteBuffer(bytes: bytes), now: Self.signedAt) else {
                Issue.record("\(bytes) was not refused as malformed")
                continue
            }
            guard case .failure(.malformed) = BeaconVerifier().verify(ByteBuffer(bytes: bytes), now: 0) else {
                Issue.record("\(bytes) was not refused as malformed without a key")
                continue
            }
        }
    }

    @Test("the signed beacon is the reference's frame plus two header keys, well under the reference's 1024-byte read")
    func referenceCompatible() throws {
        let signed = try Self.signed()
        let plain = try Self.unsigned()
        var a = signed
        var b = plain
        var decoderA = FrameDecoder()
        var decoderB = FrameDecoder()
        guard case .frame(let signedFrame)? = try decoderA.decode(buffer: &a),
            case .frame(let plainFrame)? = try decoderB.decode(buffer: &b)
        else { Issue.record("not frames"); return }
        #expect(signedFrame.content == plainFrame.content)
        #expect(Array(signedFrame.header.extra.keys) == [BeaconVerifier.timeKey, BeaconVerifier.signatureKey])
        var header = signedFrame.header
        header.extra = [:]
        #expect(header == plainFrame.header)
        // The content bytes are the unsigned beacon's, byte for byte (they end both datagrams).
        let contentLength = plainFrame.header.contentLength
        #expect(Array(signed.readableBytesView.suffix(contentLength)) == Array(plain.readableBytesView.suffix(contentLength)))
        #expect(signed.readableBytes < 1024)
        #expect(signed.readableBytes - plain.readableBytes == 130)  // two keys: a 13-digit time and 64 hex digits
    }

    @Test("a reference-style listener (Python, reading 1024 bytes of the datagram) follows a signed beacon")
    func pythonReferenceReadsSignedBeacon() async throws {
        let hex = Array(try Self.signed().readableBytesView).map { String(format: "%02x", $0) }.joined()
        let script = """
            import sys
            sys.path.insert(0, \(String(reflecting: Vectors.packageRoot.appendingPathComponent("Tests/Interop").path)))
            import refmessaging
            data = bytes.fromhex(sys.stdin.read().strip())[:1024]
            message = refmessaging.MessageManager()
            message.income_raw = bytearray(data)
            message.process_message()
            if message.content and message.jsonheader["action"] == "server_ip":
                kwargs = message.content["kwargs"]
                print(kwargs["host"], int(kwargs["port"]), kwargs["id"], kwargs["start_time"])
            else:
                print("ignored")
            """
        let output = try await PythonInterop.run(script: script, input: hex)
        #expect(output == "192.168.1.10 25000 0815 1700000000.123\n")
    }

    @Test("a beacon signed by an independent implementation (Python's hmac, Scripts/fuzz-seeds.py) verifies")
    func pythonSignedBeaconVerifies() async throws {
        let script = """
            import importlib.util, sys
            spec = importlib.util.spec_from_file_location("seeds", \(String(reflecting: Vectors.packageRoot.appendingPathComponent("Scripts/fuzz-seeds.py").path)))
            seeds = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(seeds)
            print(seeds.signed_beacon(bytes.fromhex(sys.stdin.read().strip()), key=b"python key", at_ms=1765000000250).hex())
            """
        let vector = Vectors.named("server_ip_beacon").bytes.map { String(format: "%02x", $0) }.joined()
        let output = try await PythonInterop.run(script: script, input: vector)
        let datagram = ByteBuffer(bytes: Vectors.hexBytes(output.trimmingCharacters(in: .whitespacesAndNewlines)))
        let verifier = BeaconVerifier(key: try DiscoveryKey(text: "python key"))
        #expect(verifier.verify(datagram, now: 1_765_000_000.25) == .success(Self.announcement))
        #expect(BeaconVerifier(key: Self.key).verify(datagram, now: 1_765_000_000.25) == .failure(.badSignature))
    }

    @Test("a key file: its first line (LF or CRLF), never blank; a missing file says why")
    func keyFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("clever-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ text: String) throws -> String {
            let url = directory.appendingPathComponent(UUID().uuidString)
            try Data(text.utf8).write(to: url)
            return url.path
        }
        #expect(try DiscoveryKey(contentsOfFile: write("s3cret\nignored\n")) == DiscoveryKey(text: "s3cret"))
        #expect(try DiscoveryKey(contentsOfFile: write("s3cret\r\n")) == DiscoveryKey(text: "s3cret"))
        #expect(try DiscoveryKey(contentsOfFile: write("s3cret")) == DiscoveryKey(text: "s3cret"))
        #expect(try DiscoveryKey(contentsOfFile: write(" spaced key ")) == DiscoveryKey(text: " spaced key "))
        for blank in ["", "\n", "\nsecond line", " \t\r\n", "\r\n"] {
            let path = try write(blank)
            #expect(throws: DiscoveryKeyError.empty(path: path)) { try DiscoveryKey(contentsOfFile: path) }
        }
        let missing = directory.appendingPathComponent("missing").path
        #expect(throws: DiscoveryKeyError.unreadable(path: missing, reason: "No such file or directory")) {
            try DiscoveryKey(contentsOfFile: missing)
        }
        #expect(throws: DiscoveryKeyError.empty(path: nil)) { try DiscoveryKey([UInt8]()) }
        // The secret is never shown.
        let key = try DiscoveryKey(text: "s3cret")
        #expect("\(key)" == "DiscoveryKey(<6 bytes>)")
        #expect(!"\(DiscoveryListener.Configuration(key: key))".contains("s3cret"))
        #expect(key != (try DiscoveryKey(text: "s3creT")))
    }

    @Test("rejections are reported once per sender and reason, and the table is bounded")
    func rejectionLogLimit() {
        var limit = RejectionLogLimit(capacity: 3)
        #expect(limit.record(sender: "10.0.0.1", reason: "unsigned") == .warn)
        #expect(limit.record(sender: "10.0.0.1", reason: "unsigned") == .quiet)
        #expect(limit.record(sender: "10.0.0.1", reason: "expired") == .warn)
        #expect(limit.record(sender: "10.0.0.2", reason: "unsigned") == .warn)
        #expect(limit.record(sender: "10.0.0.2", reason: "unsigned") == .quiet)
        #expect(limit.record(sender: "10.0.0.3", reason: "unsigned") == .warnFull)
        for n in 4..<100 { #expect(limit.record(sender: "10.0.0.\(n)", reason: "unsigned") == .quiet) }
        #expect(limit.record(sender: "10.0.0.1", reason: "unsigned") == .quiet)
    }
}
