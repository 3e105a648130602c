import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@testable import CleverMessaging

/// Decodes all bytes of `bytes` with a fresh decoder into parts.
func decodeParts(_ bytes: [UInt8], configuration: FrameCodecConfiguration = .init()) throws -> [FramePart] {
    var decoder = FrameDecoder(configuration: configuration)
    var buffer = ByteBuffer(bytes: bytes)
    var parts: [FramePart] = []
    while let part = try decoder.decode(buffer: &buffer) { parts.append(part) }
    while let part = try decoder.decodeLast(buffer: &buffer, seenEOF: true) { parts.append(part) }
    return parts
}

/// The single JSON frame in `bytes`.
func decodeJSONFrame(_ bytes: [UInt8]) throws -> Frame {
    let parts = try decodeParts(bytes)
    guard parts.count == 1, case .frame(let frame) = parts[0] else {
        Issue.record("expected one JSON frame, got \(parts)")
        throw FrameDecodingError.headerNotObject
    }
    return frame
}

@Suite("Reference vectors")
struct VectorDecodingTests {
    @Test("all 15 vectors are present")
    func count() {
        #expect(Vectors.all.count == 15)
    }

    @Test func actionSimple() throws {
        let frame = try decodeJSONFrame(Vectors.named("action_simple").bytes)
        #expect(frame.header.messageType == .message)
        #expect(frame.header.action == "test")
        #expect(frame.header.byteOrder == .little)
        #expect(frame.header.contentLength == 26)
        #expect(frame.content == .json(["args": [], "kwargs": [:]]))
    }

    @Test func actionArgsKwargs() throws {
        let frame = try decodeJSONFrame(Vectors.named("action_args_kwargs").bytes)
        #expect(frame.header.action == "start")
        #expect(frame.content == .json(["args": [1, "two", 3.5, nil, true], "kwargs": ["time": "1700000000.5"]]))
        // int stays int, float stays float
        #expect(frame.content.jsonValue?["args"]?[0] == .integer(1))
        #expect(frame.content.jsonValue?["args"]?[2] == .double(3.5))
    }

    @Test func actionUnicode() throws {
        let frame = try decodeJSONFrame(Vectors.named("action_unicode").bytes)
        #expect(frame.header.action == "led_fill")
        #expect(frame.content == .json(["args": [], "kwargs": ["name": "Дрон №7 ✈", "rgb": [255, 0, 128]]]))
    }

    @Test func actionNaN() throws {
        let frame = try decodeJSONFrame(Vectors.named("action_nan").bytes)
        let value = frame.content.jsonValue?["kwargs"]?["value"]
        #expect(value?["battery"]?.doubleValue?.isNaN == true)
        #expect(value?["x"] == .double(.infinity))
        #expect(value?["y"] == .double(-.infinity))
        #expect(value?["z"] == .double(0.0))
    }

    @Test func actionNested() throws {
        let frame = try decodeJSONFrame(Vectors.named("action_nested").bytes)
        #expect(frame.header.action == "config")
        let expected: JSONValue = [
            "args": [],
            "kwargs": [
                "config": [
                    "SERVER": ["port": 25000, "host": "192.168.1.101"],
                    "id": "/hostname",
                    "list": [[1, 2], ["a": []]],
                    "big": .bigInteger("12345678901234567890"),
                ],
                "mode": "modify",
            ],
        ]
        #expect(frame.content == .json(expected))
    }

    @Test func requests() throws {
        let simple = try decodeJSONFrame(Vectors.named("request_simple").bytes)
        #expect(simple.header.messageType == .request)
        #expect(simple.content == .json(["requested_value": "time", "request_id": "0042", "args": [], "kwargs": [:]]))
        let kwargs = try decodeJSONFrame(Vectors.named("request_kwargs").bytes)
        #expect(
            kwargs.content
                == .json(["requested_value": "config", "request_id": "9999", "args": [], "kwargs": ["send_configspec": true]])
        )
        let file = try decodeJSONFrame(Vectors.named("request_filetransfer").bytes)
        #expect(
            file.content
                == .json(["requested_value": "filetransfer", "request_id": "0007", "args": [], "kwargs": ["filepath": "config/client.ini"]])
        )
    }

    @Test func responses() throws {
        let value = try decodeJSONFrame(Vectors.named("response_value").bytes)
        #expect(value.header.messageType == .response)
        #expect(value.header.requestedValue == "time")
        #expect(value.header.requestID == "0042")
        #expect(value.content == .json(["value": 1700000000.25]))
        let dict = try decodeJSONFrame(Vectors.named("response_dict").bytes)
        #expect(dict.header.requestedValue == "telemetry")
        #expect(dict.header.requestID == "0100")
        #expect(dict.content == .json(["value": ["battery": [12.1, 0.87], "mode": "OFFBOARD", "armed": false, "pos": nil]]))
        let none = try decodeJSONFrame(Vectors.named("response_none").bytes)
        #expect(none.header.requestedValue == "anim_id")
        #expect(none.content == .json(["value": nil]))
    }

    @Test func binaryFrames() throws {
        let file = try decodeParts(Vectors.named("response_file").bytes)
        guard case .binaryHead(let head) = file.first else { Issue.record("no head"); return }
        #expect(head.messageType == .response)
        #expect(head.requestedValue == "filetransfer")
        #expect(head.requestID == "0007")
        let body = file.compactMap { part -> [UInt8]? in
            if case .binaryBody(var b) = part { return b.readBytes(length: b.readableBytes) }
            return nil
        }.flatMap { $0 }
        #expect(body == Array("[SERVER]\nport = 25000\n".utf8) + [0x00, 0xFF] + Array(" binary tail".utf8))
        #expect(file.last == .binaryEnd)

        let push = try decodeParts(Vectors.named("file_push").bytes)
        guard case .binaryHead(let pushHead) = push.first else { Issue.record("no head"); return }
        #expect(pushHead.action == "filetransfer")
        #expect(pushHead.filePath == "animation.csv")
        #expect(push.count == 3)

        let empty = try decodeParts(Vectors.named("file_push_empty").bytes)
        #expect(empty.count == 2)
        guard case .binaryHead(let emptyHead) = empty.first else { Issue.record("no head"); return }
        #expect(emptyHead.filePath == "empty.txt")
        #expect(emptyHead.contentLength == 0)
        #expect(empty.last == .binaryEnd)
    }

    @Test func beacon() throws {
        let frame = try decodeJSONFrame(Vectors.named("server_ip_beacon").bytes)
        #expect(frame.header.action == "server_ip")
        #expect(
            frame.content
                == .json([
                    "args": [],
                    "kwargs": ["host": "192.168.1.10", "port": "25000", "id": "0815", "start_time": "1700000000.123"],
                ])
        )
    }

    @Test("the encoder writes the reference's exact bytes")
    func byteExactEncoding() throws {
        var writer = FrameWriter()
        func encoded(_ frame: Frame) throws -> [UInt8] {
            var out = ByteBuffer()
            try writer.write(frame, into: &out)
            return Array(out.readableBytesView)
        }
        let cases: [(String, Frame)] = [
            ("action_simple", .action("test")),
            ("action_args_kwargs", .action("start", args: [1, "two", 3.5, nil, true], kwargs: ["time": "1700000000.5"])),
            ("action_unicode", .action("led_fill", kwargs: ["name": "Дрон №7 ✈", "rgb": [255, 0, 128]])),
            ("action_nan", .action("telemetry", kwargs: ["value": ["battery": .double(.nan), "x": .double(.infinity), "y": .double(-.infinity), "z": 0.0]])),
            ("request_simple", .request("time", id: "0042")),
            ("request_kwargs", .request("config", id: "9999", kwargs: ["send_configspec": true])),
            ("request_filetransfer", .request("filetransfer", id: "0007", kwargs: ["filepath": "config/client.ini"])),
            ("response_value", .response("time", id: "0042", value: 1700000000.25)),
            ("response_none", .response("anim_id", id: "0001", value: nil)),
            ("file_push", .filePush(path: "animation.csv", bytes: ByteBuffer(string: "frame,x,y,z\n0,0.0,0.0,1.0\n"))),
            ("file_push_empty", .filePush(path: "empty.txt", bytes: ByteBuffer())),
        ]
        for (name, frame) in cases {
            #expect(try encoded(frame) == Vectors.named(name).bytes, "vector \(name)")
        }
    }
}
