import NIOCore

@testable import CleverMessaging

/// The frame each reference vector of `vectors.json` must decode to, written
/// out by hand from the vector notes (headers as the reference sent them:
/// little-endian host, exact `content-length`).
enum ReferenceFrames {
    /// `frame` with the header fields the reference wrote for it.
    private static func sent(_ frame: Frame, contentLength: Int) -> Frame {
        var copy = frame
        copy.header.byteOrder = .little
        copy.header.contentLength = contentLength
        return copy
    }

    /// The expected frame for every vector, by name.
    static let byName: [String: Frame] = [
        "action_simple": sent(.action("test"), contentLength: 26),
        "action_args_kwargs": sent(
            .action("start", args: [1, "two", 3.5, nil, true], kwargs: ["time": "1700000000.5"]),
            contentLength: 73
        ),
        "action_unicode": sent(
            .action("led_fill", kwargs: ["name": "Дрон №7 ✈", "rgb": [255, 0, 128]]),
            contentLength: 75
        ),
        "action_nan": sent(
            .action(
                "telemetry",
                kwargs: ["value": ["battery": .double(.nan), "x": .double(.infinity), "y": .double(-.infinity), "z": 0.0]]
            ),
            contentLength: 92
        ),
        "action_nested": sent(
            .action(
                "config",
                kwargs: [
                    "config": [
                        "SERVER": ["port": 25000, "host": "192.168.1.101"],
                        "id": "/hostname",
                        "list": [[1, 2], ["a": []]],
                        "big": .bigInteger("12345678901234567890"),
                    ],
                    "mode": "modify",
                ]
            ),
            contentLength: 183
        ),
        "request_simple": sent(.request("time", id: "0042"), contentLength: 75),
        "request_kwargs": sent(.request("config", id: "9999", kwargs: ["send_configspec": true]), contentLength: 100),
        "request_filetransfer": sent(
            .request("filetransfer", id: "0007", kwargs: ["filepath": "config/client.ini"]),
            contentLength: 114
        ),
        "response_value": sent(.response("time", id: "0042", value: 1700000000.25), contentLength: 24),
        "response_dict": sent(
            .response(
                "telemetry",
                id: "0100",
                value: ["battery": [12.1, 0.87], "mode": "OFFBOARD", "armed": false, "pos": nil]
            ),
            contentLength: 85
        ),
        "response_none": sent(.response("anim_id", id: "0001", value: nil), contentLength: 15),
        "response_file": sent(
            .fileResponse(
                id: "0007",
                bytes: ByteBuffer(bytes: Array("[SERVER]\nport = 25000\n".utf8) + [0x00, 0xFF] + Array(" binary tail".utf8))
            ),
            contentLength: 36
        ),
        "file_push": sent(
            .filePush(path: "animation.csv", bytes: ByteBuffer(string: "frame,x,y,z\n0,0.0,0.0,1.0\n")),
            contentLength: 26
        ),
        "file_push_empty": sent(.filePush(path: "empty.txt", bytes: ByteBuffer()), contentLength: 0),
        "server_ip_beacon": sent(
            .action(
                "server_ip",
                kwargs: ["host": "192.168.1.10", "port": "25000", "id": "0815", "start_time": "1700000000.123"]
            ),
            contentLength: 111
        ),
    ]

    /// The expected frame of `vector`.
    static func expected(for vector: Vector) -> Frame {
        guard let frame = byName[vector.name] else { fatalError("no expected frame for vector \(vector.name)") }
        return frame
    }

    /// Whether `vector` holds a binary frame (which decodes to several parts).
    static func isBinary(_ vector: Vector) -> Bool {
        !expected(for: vector).header.contentType.isJSON
    }
}
