#!/usr/bin/env python3
"""Writes the seed corpus of each clever-fuzz target (see Scripts/fuzz.sh).

Usage: fuzz-seeds.py OUTPUT_DIR

Seeds come from the reference vectors (Tests/CleverMessagingTests/Fixtures/
vectors.json), plus frames that reach the deeper states: the answers a
handshake waits for, and discovery beacons signed as BeaconFuzz expects
(key "fuzz-key", at 1700000000 s; see Sources/clever-fuzz/BeaconFuzz.swift and
the signed format in Sources/CleverMessaging/Discovery/BeaconVerifier.swift).
"""
import hashlib
import hmac
import json
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = os.path.join(ROOT, "Tests", "CleverMessagingTests", "Fixtures", "vectors.json")
FUZZ_KEY = b"fuzz-key"
FUZZ_NOW_MS = 1700000000000


def split(frame):
    """(header bytes, content bytes) of one whole frame."""
    n = struct.unpack(">H", frame[:2])[0]
    return frame[2:2 + n], frame[2 + n:]


def make_frame(header, content):
    header_bytes = json.dumps(header, ensure_ascii=False).encode()
    return struct.pack(">H", len(header_bytes)) + header_bytes + content


def json_frame(message_type, content, **extra):
    body = json.dumps(content, ensure_ascii=False).encode()
    header = {"byteorder": "little", "content-type": "json", "content-encoding": "utf-8",
              "content-length": len(body), "message-type": message_type}
    header.update(extra)
    return make_frame(header, body)


def signed_beacon(unsigned, key=FUZZ_KEY, at_ms=FUZZ_NOW_MS):
    """The unsigned beacon with the two signature keys added to its header."""
    header_bytes, content = split(unsigned)
    message = b"clever-beacon-v1\x00server_ip\x00" + str(at_ms).encode() + b"\x00" + content
    mac = hmac.new(key, message, hashlib.sha256).hexdigest()
    header = json.loads(header_bytes)
    header["x-clever-beacon-time"] = at_ms
    header["x-clever-beacon-mac"] = mac
    return make_frame(header, content)


def main():
    out = sys.argv[1]
    vectors = {v["name"]: bytes.fromhex(v["hex"]) for v in json.load(open(VECTORS))["vectors"]}
    seeds = {name: [] for name in ("frames", "json", "handshake", "file-header", "beacon", "typed")}

    everything = b"".join(vectors.values())
    for frame in vectors.values():
        header, content = split(frame)
        seeds["frames"] += [b"\x00" + frame, b"\x05" + frame]
        seeds["json"] += [header] + ([content] if content[:1] in (b"{", b"[") else [])
        seeds["file-header"].append(header)
    seeds["frames"] += [b"\x00" + everything, b"\x02" + everything, b"\xff" + everything]

    # A file push header with each digest form, and hostile paths.
    for path in ("a/b.txt", "../../etc/passwd", "/abs/x", "dir/./y", "\u202eevil.txt", "a//b", "."):
        push = {"byteorder": "little", "content-type": "binary", "content-encoding": "binary",
                "content-length": 3, "message-type": "message", "action": "filetransfer", "filepath": path}
        seeds["file-header"].append(json.dumps(push).encode())
        seeds["file-header"].append(json.dumps(dict(push, sha256="0" * 64, **{"x-clever": 1})).encode())
        seeds["file-header"].append(json.dumps(dict(push, **{"x-clever-sha256-trailer": True})).encode())

    # The answers a handshake waits for: id and clover_dir (requests 0001, 0002), the delivery hello.
    marker = {"x-clever": 1}
    answers = [
        json_frame("response", {"value": "copter7"}, requested_value="id", request_id="0001"),
        json_frame("response", {"value": "/home/pi/clover"}, requested_value="clover_dir", request_id="0002"),
        json_frame("response", {"value": {"acked": 3}}, requested_value="x-clever-session", request_id="0003", **marker),
        json_frame("response", {"value": {"acked": 3}}, requested_value="x-clever-session", request_id="0002", **marker),
        json_frame("message", {"args": [], "kwargs": {}}, action="telemetry", **marker),
    ]
    for settings in (0, 1, 2, 4, 8, 15, 0x2f):
        seeds["handshake"].append(bytes([settings]) + b"".join(answers))
        seeds["handshake"].append(bytes([settings]) + answers[4] + answers[0] + answers[1] + answers[2])
    seeds["handshake"].append(b"\x00" + everything)

    # Texts of the typed target's probe (Sources/clever-fuzz/TypedFuzz.swift): every member, and near misses.
    probe = {"a": 1, "b": 2.5, "c": "x\u00e9\n", "d": [1, -9223372036854775808], "e": {"k": [None, True]},
             "f": {"on": True}, "g": {"x": 0.1, "y": [255, 0], "z": [{"x": 1e39}, {}]}, "h": [["a"], []]}
    seeds["typed"] += [json.dumps(probe, ensure_ascii=False).encode(), json.dumps(probe).encode(),
                       b'{"a": 1.5, "b": "x", "d": [9223372036854775808], "a": null}',
                       b'{"g": {"y": [256]}, "f": {"on": 1}}', b'[]', b'{"e": NaN, "b": -Infinity}']

    beacon = vectors["server_ip_beacon"]
    seeds["beacon"] += [beacon, signed_beacon(beacon), signed_beacon(beacon, at_ms=FUZZ_NOW_MS - 9999),
                        signed_beacon(beacon, at_ms=FUZZ_NOW_MS + 20000), signed_beacon(beacon, key=b"other")]

    for target, items in seeds.items():
        directory = os.path.join(out, target)
        os.makedirs(directory, exist_ok=True)
        for index, item in enumerate(items):
            with open(os.path.join(directory, "seed-%03d" % index), "wb") as f:
                f.write(item)
        print("%s: %d seeds" % (target, len(items)))


if __name__ == "__main__":
    main()
