import Foundation
import NIOCore
import Testing

@testable import CleverMessaging

/// Frames written here are read by CPython's `json` module (the reference's
/// reader) back to equal values, and text written by CPython's `json.dumps`
/// is read here back to equal values. Each direction runs python3 once.
@Suite("Python json interop")
struct PythonInteropTests {
    // MARK: - Swift encoder → Python json

    /// Reads frames (hex, one per line) the way the reference does and prints
    /// the canonical text of header and content, or `ERR ...`.
    static let readerScript = PythonInterop.canonicalFunction + #"""

        out = []
        for line in sys.stdin.read().split("\n"):
            line = line.strip()
            if not line:
                continue
            try:
                b = bytes.fromhex(line)
                n = int.from_bytes(b[:2], "big")
                header = json.loads(b[2:2 + n].decode("utf-8"))
                content = b[2 + n:]
                if type(header) is not dict:
                    raise ValueError("header is not an object")
                for key in ("byteorder", "content-type", "content-encoding", "content-length", "message-type"):
                    if key not in header:
                        raise ValueError("missing " + key)
                if type(header["content-length"]) is not int or header["content-length"] != len(content):
                    raise ValueError("content-length %r but %d content bytes" % (header["content-length"], len(content)))
                if header["content-type"] == "json":
                    body = canon(json.loads(content.decode(header["content-encoding"])))
                else:
                    body = "b" + content.hex()
                out.append(canon(header) + "|" + body)
            except Exception as e:
                out.append("ERR " + type(e).__name__ + ": " + str(e)[:300])
        sys.stdout.write("\n".join(out) + "\n")
        """#

    /// What Python must see for `frame`, given the bytes the encoder wrote.
    static func expectedReading(of frame: Frame, encoded: [UInt8]) -> String {
        let headerLength = Int(encoded[0]) << 8 | Int(encoded[1])
        let contentLength = encoded.count - 2 - headerLength
        let h = frame.header
        var header: JSONObject = [
            "byteorder": .string(h.byteOrder.rawValue),
            "content-type": .string(h.contentType.rawValue),
            "content-encoding": .string(h.contentEncoding),
            "content-length": .integer(contentLength),
            "message-type": .string(h.messageType.rawValue),
        ]
        if let v = h.action { header["action"] = .string(v) }
        if let v = h.filePath { header["filepath"] = .string(v) }
        if let v = h.requestedValue { header["requested_value"] = .string(v) }
        if let v = h.requestID { header["request_id"] = v }
        for (key, value) in h.extra where header[key] == nil { header[key] = value }
        let body: String
        switch frame.content {
        case .json(let value): body = PythonInterop.canonical(value)
        case .binary(let bytes): body = "b" + PythonInterop.hex(Array(bytes.readableBytesView))
        }
        return PythonInterop.canonical(.object(header)) + "|" + body
    }

    /// Values chosen for the edges of the dialect.
    static let edgeValues: [(String, JSONValue)] = [
        ("NaN", .double(.nan)),
        ("Infinity", .double(.infinity)),
        ("-Infinity", .double(-.infinity)),
        ("non-finite in containers", ["a": [.double(.nan), .double(-.infinity)], "b": ["c": .double(.infinity)]]),
        ("-0.0", .double(-0.0)),
        ("0.0", 0.0),
        ("1 vs 1.0", [1, 1.0, .integer(-1), .double(-1.0), 0, 0.0]),
        ("1e16 and friends", [.double(1e16), .double(1e17), .double(1e22), .double(1e-5), .double(1e-7), .double(123456789012345678.0)]),
        ("extreme floats", [.double(.greatestFiniteMagnitude), .double(.leastNonzeroMagnitude), .double(.leastNormalMagnitude), .double(-.ulpOfOne)]),
        ("Int64 bounds", [.integer(.max), .integer(.min)]),
        ("big ints", [
            .bigInteger("9223372036854775808"), .bigInteger("-9223372036854775809"),
            .bigInteger("12345678901234567890"), .bigInteger("-12345678901234567890"),
            .bigInteger("1" + String(repeating: "0", count: 299)), .bigInteger("-" + String(repeating: "9", count: 300)),
        ]),
        ("4300-digit int", .bigInteger(String(repeating: "8", count: 4300))),
        ("non-ASCII", ["Дрон №7 ✈", "中文", "e\u{301}", "\u{e9}", "\u{FEFF}", "\u{2028}\u{2029}", "\u{FFFF}"]),
        ("astral plane", ["🚁", "👍🏽", "👨‍👩‍👧‍👦", "𝄞", "\u{10FFFF}", "\u{1F600}\u{1F601}"]),
        ("control chars", .string(String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) })) + "\u{7F}\"\\/")),
        ("control chars in keys", .object(["\u{0}": 1, "\t\n": 2, "\"\\": 3, "\u{1F}": 4])),
        ("non-ASCII keys", ["ключ": 1, "🔑": 2, "": 3]),
        ("empty containers", [[], [:], [[]], [[:]], ["": [:]], ""]),
        ("key order", ["z": 1, "a": 2, "m": 3, "b": 4]),
        ("nested", ["a": [1, ["b": [2, ["c": [3, [nil, true, false]]]]]]]),
        ("every BMP scalar from U+0000 to U+07FF", .string(String(String.UnicodeScalarView((0..<0x800).compactMap { Unicode.Scalar($0) })))),
    ]

    /// A random JSON value (seeded): every case, with strings drawn from ASCII,
    /// control characters, Cyrillic, CJK and the astral plane.
    static func randomValue(depth: Int, using rng: inout WireTestKit.SeededRNG) -> JSONValue {
        let kind = Int.random(in: 0..<(depth > 0 ? 9 : 7), using: &rng)
        switch kind {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2:
            return Bool.random(using: &rng) ? .integer(Int.random(in: -1000...1000, using: &rng)) : .integer(Int(bitPattern: UInt(rng.next())))
        case 3:
            let count = Int.random(in: 20...80, using: &rng)
            var digits = String(Int.random(in: 1...9, using: &rng))
            for _ in 1..<count { digits += String(Int.random(in: 0...9, using: &rng)) }
            return .bigInteger(Bool.random(using: &rng) ? "-" + digits : digits)
        case 4:
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: return .double(.nan)
            case 1: return .double(Bool.random(using: &rng) ? .infinity : -.infinity)
            case 2: return .double(Double(Int.random(in: -100...100, using: &rng)))
            default:
                var d = Double(bitPattern: rng.next())
                while !d.isFinite { d = Double(bitPattern: rng.next()) }
                return .double(d)
            }
        case 5, 6: return .string(randomString(using: &rng))
        case 7:
            return .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in randomValue(depth: depth - 1, using: &rng) })
        default:
            var object = JSONObject()
            for _ in 0..<Int.random(in: 0...5, using: &rng) {
                object[randomString(using: &rng)] = randomValue(depth: depth - 1, using: &rng)
            }
            return .object(object)
        }
    }

    static func randomString(using rng: inout WireTestKit.SeededRNG) -> String {
        let ranges: [ClosedRange<UInt32>] = [0x20...0x7E, 0x00...0x1F, 0x80...0x7FF, 0x400...0x4FF, 0x4E00...0x9FFF, 0xE000...0xFFFF, 0x1F300...0x1FAFF, 0x10000...0x10FFFF]
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...12, using: &rng) {
            let range = ranges[Int.random(in: 0..<ranges.count, using: &rng)]
            if let scalar = Unicode.Scalar(UInt32.random(in: range, using: &rng)) { scalars.append(scalar) }
        }
        return String(scalars)
    }

    /// Every frame of the batch, named.
    static func encoderBatch() -> [(String, Frame)] {
        var batch: [(String, Frame)] = RoundTripTests.frameCases.map { ($0.name, $0.frame) }
        for vector in Vectors.all { batch.append(("vector " + vector.name, ReferenceFrames.expected(for: vector))) }
        for (name, value) in edgeValues {
            batch.append(("value " + name, .response("v", id: "0001", value: value)))
            batch.append(("action " + name, .action("a", args: [value], kwargs: ["k": value])))
        }
        batch.append(("edge values in header extension keys", .action("x", extra: JSONObject(uniqueKeysWithValues: edgeValues.map { ("x-" + $0.0, $0.1) }))))
        var rng = WireTestKit.SeededRNG(seed: 0x5EED)
        for i in 0..<300 {
            let value = randomValue(depth: 4, using: &rng)
            batch.append(("random value #\(i)", i.isMultiple(of: 2) ? .response("r", id: .integer(i), value: value) : .request("r", id: .string(String(i)), args: [value])))
        }
        for i in 0..<10 {
            let length = Int.random(in: 0...3000, using: &rng)
            let bytes = ByteBuffer(bytes: (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) })
            batch.append(("random file #\(i)", .filePush(path: "f\(i).bin", bytes: bytes, extra: ["sha256": "x"])))
        }
        return batch
    }

    @Test("every frame the encoder writes reads back equal in Python's json module")
    func encoderToPython() async throws {
        let batch = Self.encoderBatch()
        var input = ""
        var expected: [String] = []
        for (_, frame) in batch {
            let encoded = try WireTestKit.encode(frame)
            input += PythonInterop.hex(encoded) + "\n"
            expected.append(Self.expectedReading(of: frame, encoded: encoded))
        }
        let output = try await PythonInterop.run(script: Self.readerScript, input: input)
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(lines.count == batch.count, "python printed \(lines.count) lines for \(batch.count) frames")
        var mismatches = 0
        for (i, (name, _)) in batch.enumerated() where i < lines.count && lines[i] != expected[i] {
            mismatches += 1
            if mismatches <= 10 {
                Issue.record("frame \"\(name)\": Python read\n  \(lines[i].prefix(400))\nexpected\n  \(expected[i].prefix(400))")
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(batch.count) frames read differently by Python")
    }

    // MARK: - Python json.dumps → Swift parser

    /// Writes a corpus with `json.dumps` in several styles; per value one line:
    /// `hex(ensure_ascii=False) hex(default) hex(indent=2) hex(compact) hex(reference frame) canon`.
    static let writerScript = PythonInterop.canonicalFunction + #"""

        random.seed(20240501)

        def rstr():
            ranges = [(0x20, 0x7E), (0x00, 0x1F), (0x80, 0x7FF), (0x4E00, 0x9FFF), (0xE000, 0xFFFF), (0x1F300, 0x1FAFF), (0x10000, 0x10FFFF)]
            s = []
            for _ in range(random.randint(0, 12)):
                lo, hi = random.choice(ranges)
                s.append(chr(random.randint(lo, hi)))
            return "".join(s)

        def rval(depth):
            k = random.randint(0, 8 if depth > 0 else 6)
            if k == 0:
                return None
            if k == 1:
                return random.random() < 0.5
            if k == 2:
                return random.choice([random.randint(-1000, 1000), random.randint(-2**63, 2**63 - 1), random.randint(-10**60, 10**60)])
            if k == 3:
                return random.choice([float("nan"), float("inf"), float("-inf"), -0.0, random.uniform(-1e6, 1e6), random.random() * 10 ** random.randint(-320, 308), struct.unpack(">d", struct.pack(">Q", random.getrandbits(64)))[0]])
            if k in (4, 5, 6):
                return rstr()
            if k == 7:
                return [rval(depth - 1) for _ in range(random.randint(0, 5))]
            return {rstr(): rval(depth - 1) for _ in range(random.randint(0, 5))}

        deep = "bottom"
        for i in range(150):
            deep = [deep] if i % 2 else {"k": deep}

        corpus = [
            None, True, False, 0, 1, -1, 2**63 - 1, 2**63, -2**63, -2**63 - 1, 2**64, 10**20, -10**20,
            10**299, -(10**299), int("9" * 4300), -int("7" * 4300),
            0.0, -0.0, 1.0, -1.0, 1.5, 1e16, 1e17, 1e-7, 1e308, -1e308, 5e-324, 2.2250738585072014e-308,
            float("nan"), float("inf"), float("-inf"), 0.1 + 0.2, 2.0 ** 0.5, 1e22, 123456789012345678.0,
            "", "plain", "Дрон №7 ✈", "中文", "🚁", "\U0001F44D\U0001F3FD", "\U0001D11E", "\U0010FFFF", "\uffff",
            "\x00\x01\x1f\x7f", "\"\\/", "\u2028\u2029", "\ufeff", "tab\there\nnew\rline\bback\fform",
            "e\u0301 \u00e9", "".join(chr(c) for c in range(0x800)),
            [], {}, [[]], [{}], {"": None}, {"a": [1, 2.0, "3"], "b": {"c": {"d": []}}},
            {"z": 1, "a": 2, "m": 3}, {"\x00": 1, "🔑": 2, "ключ": 3},
            [float("nan"), float("inf"), float("-inf"), -0.0, 0, 0.0, 1, 1.0],
            deep,
        ] + [rval(4) for _ in range(300)]

        def frame(value):
            content = json.dumps({"value": value}, ensure_ascii=False).encode("utf-8")
            header = json.dumps({"byteorder": sys.byteorder, "content-type": "json", "content-encoding": "utf-8",
                                 "content-length": len(content), "message-type": "response",
                                 "requested_value": "v", "request_id": "0001"}).encode("utf-8")
            return len(header).to_bytes(2, "big") + header + content

        out = []
        for x in corpus:
            texts = [
                json.dumps(x, ensure_ascii=False).encode("utf-8"),
                json.dumps(x).encode("utf-8"),
                json.dumps(x, indent=2).encode("utf-8"),
                json.dumps(x, separators=(",", ":")).encode("utf-8"),
                frame(x),
            ]
            out.append(" ".join(t.hex() for t in texts) + " " + canon(x))
        sys.stdout.write("\n".join(out) + "\n")
        """#

    @Test("text written by Python's json.dumps (raw UTF-8, ASCII escapes, indented, compact) parses to equal values")
    func pythonToParser() async throws {
        let output = try await PythonInterop.run(script: Self.writerScript, input: "")
        let lines = output.split(separator: "\n")
        #expect(lines.count > 350, "python printed only \(lines.count) lines")
        var mismatches = 0
        let styles = ["ensure_ascii=False", "ensure_ascii=True", "indent=2", "compact"]
        for (number, line) in lines.enumerated() {
            let fields = line.split(separator: " ")
            guard fields.count == 6 else {
                Issue.record("line \(number): malformed output \(line.prefix(200))")
                continue
            }
            let pythonView = String(fields[5])
            for (style, field) in zip(styles, fields[0..<4]) {
                let text = PythonInterop.bytes(fromHex: field)
                do {
                    let parsed = try JSONParser.parse(text)
                    let swiftView = PythonInterop.canonical(parsed)
                    if swiftView != pythonView {
                        mismatches += 1
                        if mismatches <= 10 {
                            Issue.record(
                                "value #\(number) (\(style)): parsed \(swiftView.prefix(300)), Python has \(pythonView.prefix(300)); text \(String(decoding: text.prefix(300), as: UTF8.self))"
                            )
                        }
                    }
                } catch {
                    mismatches += 1
                    if mismatches <= 10 {
                        Issue.record("value #\(number) (\(style)): \(error); text \(String(decoding: text.prefix(300), as: UTF8.self))")
                    }
                }
            }
            // The whole frame as a reference peer would send it.
            do {
                let frame = try WireTestKit.decodeSingleFrame(PythonInterop.bytes(fromHex: fields[4]))
                let value = frame.content.jsonValue?["value"]
                if value.map(PythonInterop.canonical) != pythonView {
                    mismatches += 1
                    Issue.record("value #\(number) (frame): decoded \(String(describing: value).prefix(300))")
                }
                #expect(frame.header.requestID == "0001")
                #expect(frame.header.messageType == .response)
            } catch {
                mismatches += 1
                Issue.record("value #\(number) (frame): \(error)")
            }
        }
        #expect(mismatches == 0)
    }

    @Test("ASCII escapes from json.dumps: surrogate pairs decode to one astral scalar")
    func surrogatePairs() throws {
        // What json.dumps("🚁👍🏽𝄞") writes with the default ensure_ascii=True.
        let text = #""\ud83d\ude81\ud83d\udc4d\ud83c\udffd\ud834\udd1e""#
        #expect(try JSONParser.parse(text) == .string("🚁👍🏽𝄞"))
        #expect(try JSONParser.parse(text).stringValue.map { Array($0.unicodeScalars) } == Array("🚁👍🏽𝄞".unicodeScalars))
        #expect(try JSONParser.parse(#""\uD83D\uDE81""#) == .string("🚁"))
    }
}
