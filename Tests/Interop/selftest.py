#!/usr/bin/env python3
"""Self-test of refmessaging.py and peer.py (stdlib only, 127.0.0.1 only).

    python3 Tests/Interop/selftest.py [--vectors PATH] [-v]

Checks refmessaging against shared/protocol/vectors.json (byte-exact
encoding, decoding in any chunking), then runs a peer.py server and a
peer.py client against each other.  Prints "N passed, N failed" last and
exits non-zero on any failure.
"""

import argparse
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, HERE)
import refmessaging as rm  # noqa: E402

PEER = os.path.join(HERE, "peer.py")

PASSED = []
FAILED = []
VERBOSE = False


def check(name, condition, detail=""):
    if condition:
        PASSED.append(name)
        if VERBOSE:
            print("ok   " + name)
    else:
        FAILED.append(name)
        print("FAIL " + name + ((": " + str(detail)[:1500]) if detail != "" else ""))
    return bool(condition)


def find_vectors(explicit=None):
    candidates = [explicit, os.environ.get("CLEVER_VECTORS")]
    candidates += [os.path.join(HERE, os.pardir, "CleverMessagingTests", "Fixtures", "vectors.json")]
    for path in candidates:
        if path and os.path.isfile(path):
            return os.path.abspath(path)
    return None


# -- offline checks against the vectors -------------------------------------

class CapturingConnection(rm.ConnectionManager):
    """Unconnected: everything sent stays in _send_queue; records hooks."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.received = []
        self.events = []

    def sent(self):
        frames = list(self._send_queue)
        self._send_queue.clear()
        return frames

    def on_unexpected_response(self, message):
        self.events.append(("unexpected", message.jsonheader.get("request_id")))

    def on_unknown_request(self, requested_value, request_id, message):
        self.events.append(("unknown_request", requested_value))

    def on_unknown_action(self, action, message):
        self.events.append(("unknown_action", action))


class RecordingConnection(rm.ConnectionManager):
    def __init__(self):
        super().__init__()
        self.frames = []

    def process_received(self, message):
        self.frames.append(message)


def same_json(a, b):
    """Deep equality that treats NaN == NaN and keeps int/float apart."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return a == b


def reencode(message):
    """Rebuilds a decoded frame with the refmessaging encoders."""
    h, c = message.jsonheader, message.content
    bo = h["byteorder"]
    kind = h["message-type"]
    if kind == "message" and h.get("action") == "filetransfer":
        return rm.MessageManager.create_file_message(c, h["filepath"], byteorder=bo)
    if kind == "message":
        return rm.MessageManager.create_action_message(h["action"], c["args"], c["kwargs"], byteorder=bo)
    if kind == "request":
        return rm.MessageManager.create_request(c["requested_value"], c["request_id"], c["args"],
                                                c["kwargs"], byteorder=bo)
    if kind == "response":
        if h["content-type"] == "binary":
            return rm.MessageManager.create_response(h["requested_value"], h["request_id"], c,
                                                     filetransfer=True, byteorder=bo)
        return rm.MessageManager.create_response(h["requested_value"], h["request_id"], c["value"],
                                                 byteorder=bo)
    raise AssertionError("unknown kind " + kind)


def vector_tests(path, workdir):
    if not check("vectors.json found", path is not None, "pass --vectors PATH"):
        return
    with open(path) as f:
        vectors = {v["name"]: bytes.fromhex(v["hex"]) for v in json.load(f)["vectors"]}
    check("15 vectors", len(vectors) == 15, len(vectors))
    MM = rm.MessageManager

    def expect(name, got):
        check("encode " + name, got == vectors[name],
              "\n got  {!r}\n want {!r}".format(got, vectors[name]))

    if sys.byteorder != "little":
        print("note: big-endian host; encoder checks use byteorder='little'")
    bo = "little"
    expect("action_simple", MM.create_action_message("test", byteorder=bo))
    expect("action_args_kwargs", MM.create_action_message(
        "start", args=(1, "two", 3.5, None, True), kwargs={"time": "1700000000.5"}, byteorder=bo))
    expect("action_unicode", MM.create_action_message(
        "led_fill", kwargs={"name": "Дрон №7 ✈", "rgb": [255, 0, 128]}, byteorder=bo))
    expect("action_nan", MM.create_action_message(
        "telemetry", kwargs={"value": {"battery": float("nan"), "x": float("inf"),
                                       "y": float("-inf"), "z": 0.0}}, byteorder=bo))
    expect("action_nested", MM.create_action_message("config", kwargs={
        "config": {"SERVER": {"port": 25000, "host": "192.168.1.101"}, "id": "/hostname",
                   "list": [[1, 2], {"a": []}], "big": 12345678901234567890},
        "mode": "modify"}, byteorder=bo))
    expect("response_value", MM.create_response("time", "0042", 1700000000.25, byteorder=bo))
    expect("response_dict", MM.create_response("telemetry", "0100", {
        "battery": [12.1, 0.87], "mode": "OFFBOARD", "armed": False, "pos": None}, byteorder=bo))
    expect("response_none", MM.create_response("anim_id", "0001", None, byteorder=bo))
    expect("server_ip_beacon", MM.create_action_message("server_ip", kwargs={
        "host": "192.168.1.10", "port": "25000", "id": "0815", "start_time": "1700000000.123"},
        byteorder=bo))

    if sys.byteorder == "little":
        # through the ConnectionManager API, as the notes describe
        cm = CapturingConnection()
        cm.send_message("test")
        cm.send_message("start", args=(1, "two", 3.5, None, True), kwargs={"time": "1700000000.5"})
        sent = cm.sent()
        check("send_message('test') == action_simple", sent[0] == vectors["action_simple"])
        check("send_message('start', ...) == action_args_kwargs", sent[1] == vectors["action_args_kwargs"])
        cm.get_response("time", None, request_id="0042")
        cm.get_response("config", None, request_kwargs={"send_configspec": True}, request_id="9999")
        cm._next_request_id = lambda: "0007"
        cm.get_file("config/client.ini")
        sent = cm.sent()
        check("get_response('time') == request_simple", sent[0] == vectors["request_simple"], sent[0])
        check("get_response('config', kwargs) == request_kwargs", sent[1] == vectors["request_kwargs"], sent[1])
        check("get_file('config/client.ini') == request_filetransfer",
              sent[2] == vectors["request_filetransfer"], sent[2])
        check("get_file default local path is the last component",
              cm.pending_requests()["0007"].callback_kwargs["filepath"] == "client.ini")

        old = os.getcwd()
        os.chdir(workdir)
        try:
            with open("animation.csv", "wb") as f:
                f.write(b"frame,x,y,z\n0,0.0,0.0,1.0\n")
            open("empty.txt", "wb").close()
            os.makedirs("config", exist_ok=True)
            with open("config/client.ini", "wb") as f:
                f.write(b"[SERVER]\nport = 25000\n\x00\xff binary tail")
            cm.send_file("animation.csv", "animation.csv")
            cm.send_file("empty.txt", "empty.txt")
            sent = cm.sent()
            check("send_file == file_push", sent[0] == vectors["file_push"], sent[0])
            check("send_file(empty) == file_push_empty", sent[1] == vectors["file_push_empty"], sent[1])
            # the peer side of request_filetransfer answers with response_file
            server = CapturingConnection()
            server.feed(vectors["request_filetransfer"])
            sent = server.sent()
            check("filetransfer request answered with response_file",
                  sent == [vectors["response_file"]], sent)
            # and the file response lands in client.ini with callback value True
            got = []
            client = CapturingConnection()
            client._next_request_id = lambda: "0007"
            client.get_file("config/client.ini", "pulled.ini",
                            callback=lambda conn, value, **kw: got.append((value, kw)))
            client.sent()
            client.feed(vectors["response_file"])
            with open("pulled.ini", "rb") as f:
                check("file response written", f.read() == b"[SERVER]\nport = 25000\n\x00\xff binary tail")
            check("file response callback value True", got == [(True, {"filepath": "pulled.ini"})], got)
        finally:
            os.chdir(old)

    # every vector decodes, and re-encodes to the same bytes
    stream = b"".join(vectors.values())
    decoded = None
    for chunk in (len(stream), 1024, 7, 1):
        rec = RecordingConnection()
        for i in range(0, len(stream), chunk):
            rec.feed(stream[i:i + chunk])
        ok = len(rec.frames) == 15 and not rec._recv_buffer and rec._incoming is None
        check("decode all 15 vectors in chunks of {}".format(chunk), ok, len(rec.frames))
        if decoded is None:
            decoded = rec.frames
        elif ok:
            check("chunking {} decodes identically".format(chunk), all(
                same_json(a.jsonheader, b.jsonheader) and
                (a.content == b.content if isinstance(a.content, bytes) else same_json(a.content, b.content))
                for a, b in zip(decoded, rec.frames)))
    for name, message in zip(vectors, decoded or []):
        check("re-encode " + name, reencode(message) == vectors[name])
    frames = dict(zip(vectors, decoded or []))
    if frames:
        v = frames["action_nan"].content["kwargs"]["value"]
        check("decode NaN/Infinity", math.isnan(v["battery"]) and v["x"] == float("inf")
              and v["y"] == float("-inf") and isinstance(v["z"], float), v)
        big = frames["action_nested"].content["kwargs"]["config"]["big"]
        check("decode big int exactly", big == 12345678901234567890 and isinstance(big, int), big)
        check("decode raw UTF-8", frames["action_unicode"].content["kwargs"]["name"] == "Дрон №7 ✈")
        check("decode binary content", frames["response_file"].content == b"[SERVER]\nport = 25000\n\x00\xff binary tail")
        check("decode empty binary", frames["file_push_empty"].content == b""
              and frames["file_push_empty"].jsonheader["filepath"] == "empty.txt")

    # response matching
    cm = CapturingConnection()
    got = []
    cm.get_response("time", lambda c, v: got.append(v), request_id="0042")
    cm.feed(vectors["response_none"])  # id 0001: no such request
    cm.feed(rm.MessageManager.create_response("other", "0042", 1))  # right id, wrong value
    check("unmatched responses are unexpected", cm.events == [("unexpected", "0001"), ("unexpected", "0042")],
          cm.events)
    cm.feed(vectors["response_value"])
    check("matching response delivered", got == [1700000000.25], got)
    check("pending table empty", not cm.pending_requests())
    # unknown header keys ignored, JSON null content does not wedge the decoder
    frame = rm.MessageManager.create_message(b"null", "json", "response",
                                             additional_headers={"requested_value": "x", "request_id": "1",
                                                                 "x-ext": [1, {"a": None}]})
    cm.feed(frame + vectors["response_none"])
    check("extra header keys / null content decode", cm.events[-2:] == [("unexpected", "1"), ("unexpected", "0001")],
          cm.events)
    # a missing required header is a protocol error
    bad = rm.MessageManager._json_encode({"byteorder": "little", "content-type": "json",
                                          "content-length": 0, "message-type": "message"})
    try:
        RecordingConnection().feed(len(bad).to_bytes(2, "big") + bad)
        check("missing content-encoding rejected", False)
    except rm.ProtocolError:
        check("missing content-encoding rejected", True)
    # resend semantics
    cm = CapturingConnection(sequential_ids=True)
    rid = cm.get_response("echo", None, request_args=[1, "a"], request_kwargs={"k": 2})
    cm.sent()
    cm._resend_requests()
    again = cm.sent()
    check("resend same id and arguments",
          again == [rm.MessageManager.create_request("echo", rid, [1, "a"], {"k": 2})], again)
    cm._resend_requests()
    check("resend only once", cm.sent() == [])
    cm = CapturingConnection(sequential_ids=True)
    cm.quirk_resend_null_args = True
    rid = cm.get_response("echo", None, request_args=[1], request_kwargs={"k": 2})
    cm.sent()
    cm._resend_requests()
    check("quirk resend: args null, kwargs {}",
          cm.sent() == [rm.MessageManager.create_request("echo", rid, None, None)])


# -- peer processes -----------------------------------------------------------

class Proc:
    def __init__(self, name, argv, logdir):
        self.name = name
        self.err_path = os.path.join(logdir, name + ".stderr")
        self.err = open(self.err_path, "wb")
        self.p = subprocess.Popen([sys.executable, PEER] + argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.err)
        self.events = []
        self.cv = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "__garbage__", "line": line.decode("utf-8", "replace")}
            with self.cv:
                self.events.append(event)
                self.cv.notify_all()

    def send(self, *cmds):
        data = "".join(json.dumps(c) + "\n" for c in cmds).encode()
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def mark(self):
        with self.cv:
            return len(self.events)

    def wait(self, pred, timeout=5.0, start=0):
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for event in self.events[start:]:
                    if pred(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(left)

    def wait_count(self, pred, count, timeout=5.0, start=0):
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                found = [e for e in self.events[start:] if pred(e)]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    return found
                self.cv.wait(left)

    def all(self, pred, start=0):
        with self.cv:
            return [e for e in self.events[start:] if pred(e)]

    def sync(self, tag, timeout=5.0):
        start = self.mark()
        self.send({"cmd": "sync", "tag": tag})
        return self.wait(lambda e: e.get("event") == "sync" and e.get("tag") == tag, timeout, start)

    def finish(self, how="quit", timeout=5.0):
        try:
            if how == "quit":
                self.send({"cmd": "quit"})
            self.p.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        self.reader.join(2)
        self.err.close()
        return rc

    def dump(self):
        with open(self.err_path, "rb") as f:
            err = f.read().decode("utf-8", "replace")[-3000:]
        return "--- {} events (last 20) ---\n{}\n--- stderr ---\n{}".format(
            self.name, "\n".join(json.dumps(e) for e in self.events[-20:]), err)


def ev(name, **fields):
    return lambda e: e.get("event") == name and all(e.get(k) == v for k, v in fields.items())


def network_tests(workdir):
    sroot = os.path.join(workdir, "server_root")
    croot = os.path.join(workdir, "client_root")
    os.makedirs(sroot)
    os.makedirs(croot)
    server = Proc("server", ["server", "--root", sroot, "--sequential-ids", "--id", "srv"], workdir)
    client = None
    try:
        listening = server.wait(ev("listening"))
        if not check("server prints listening", listening and isinstance(listening.get("port"), int)):
            return
        port = listening["port"]
        client = Proc("client", ["client", "--port", str(port), "--root", croot, "--reconnect",
                                 "--sequential-ids"], workdir)
        check("client connected", client.wait(ev("connected")))
        check("server accepted peer 0", server.wait(ev("accepted", peer=0)))
        run_session(server, client, sroot, croot)
    finally:
        if client is not None:
            rc = client.finish("eof")  # stdin EOF exits 0 too
            check("client exits 0 on stdin EOF", rc == 0, rc)
        rc = server.finish("quit")
        check("server exits 0 on quit", rc == 0, rc)
        if FAILED:
            print(server.dump())
            if client is not None:
                print(client.dump())


def run_session(server, client, sroot, croot):
    nan, inf = float("nan"), float("inf")
    big = 12345678901234567890123
    text = "Дрон №7 ✈ \U0001F681"

    # action with args / kwargs, both directions
    m = server.mark()
    client.send({"cmd": "send", "action": "start", "args": [1, "two", 3.5, None, True],
                 "kwargs": {"time": "1700000000.5"}})
    e = server.wait(ev("action", action="start"), start=m)
    check("action start arrives with args/kwargs", e and e["args"] == [1, "two", 3.5, None, True]
          and e["kwargs"] == {"time": "1700000000.5"} and e["peer"] == 0 and e["header_extra"] == {}, e)
    m = client.mark()
    server.send({"cmd": "send", "action": "led_fill", "kwargs": {"name": text, "rgb": [255, 0, 128]},
                 "headers": {"x-ext": 1}})
    e = client.wait(ev("action", action="led_fill"), start=m)
    check("server -> client action, unicode, extension header", e and e["kwargs"]["name"] == text
          and e["args"] == [] and e["header_extra"] == {"x-ext": 1} and "peer" not in e, e)

    # echo round trip with NaN, Infinity, big ints, unicode
    args = [nan, inf, -inf, big, -big, text, 1, 1.0, {"nested": [None, False, 0.5]}]
    kwargs = {"big": 98765432109876543210987654321, "u": text, "f": 2.0, "i": 2}
    ms, mc = server.mark(), client.mark()
    client.send({"cmd": "request", "value": "echo", "args": args, "kwargs": kwargs, "tag": "e1"})
    r = client.wait(ev("response", tag="e1"), start=mc)
    q = server.wait(ev("request", value="echo"), start=ms)
    check("echo request seen by server", q and same_json(q["args"], args) and same_json(q["kwargs"], kwargs)
          and q["header_extra"] == {} and isinstance(q["request_id"], str), q)
    check("echo round trip NaN/Infinity/big ints/unicode/int-vs-float",
          r and same_json(r["value"], {"args": args, "kwargs": kwargs}), r)
    check("response carries the request id", r and q and r["request_id"] == q["request_id"], (r, q))

    # requests the other way: telemetry, id, clover_dir, time
    mc = server.mark()
    server.send({"cmd": "request", "value": "telemetry", "tag": "t1"},
                {"cmd": "request", "value": "id", "tag": "i1"},
                {"cmd": "request", "value": "clover_dir", "tag": "c1"},
                {"cmd": "request", "value": "time", "tag": "tm"})
    t = server.wait(ev("response", tag="t1"), start=mc)
    tv = t and t["value"]
    check("telemetry response", tv and tv["battery"] == [12.1, 0.87] and tv["mode"] == "OFFBOARD"
          and tv["armed"] is False and math.isnan(tv["nan_value"]) and tv["inf"] == inf
          and tv["big"] == big and tv["text"] == "Дрон №7 ✈" and len(tv["pos"]) == 3, t)
    check("id response (client default id)", (server.wait(ev("response", tag="i1"), start=mc) or {})
          .get("value") == "pycopter")
    check("clover_dir response", (server.wait(ev("response", tag="c1"), start=mc) or {})
          .get("value") == "/home/pi/catkin_ws/src/clever")
    tm = server.wait(ev("response", tag="tm"), start=mc)
    check("time response", tm and isinstance(tm["value"], float) and abs(tm["value"] - time.time()) < 60, tm)
    mc = client.mark()
    client.send({"cmd": "request", "value": "id", "tag": "i2"})
    check("id response (--id)", (client.wait(ev("response", tag="i2"), start=mc) or {}).get("value") == "srv")

    # unknown action keeps the connection
    ms = server.mark()
    client.send({"cmd": "send", "action": "no_such_action", "args": [1]},
                {"cmd": "send", "action": "test"})
    check("unknown action reported", server.wait(ev("unknown_action", action="no_such_action"), start=ms))
    check("connection kept after unknown action", server.wait(ev("action", action="test"), start=ms))

    # unknown request / failing handler: no reply
    ms, mc = server.mark(), client.mark()
    client.send({"cmd": "request", "value": "no_such_request", "tag": "u1"},
                {"cmd": "request", "value": "fail", "tag": "f1"},
                {"cmd": "request", "value": "echo", "args": ["after"], "tag": "u2"})
    check("request after unknown/fail answered", client.wait(ev("response", tag="u2"), start=mc))
    check("unknown request reported", server.wait(ev("unknown_request", value="no_such_request"), start=ms))
    check("unknown request gets no reply", not client.all(ev("response", tag="u1"), start=mc))
    check("fail reported as error", server.wait(
        lambda e: e.get("event") == "error" and "fail" in e.get("message", ""), start=ms))
    check("fail gets no reply", not client.all(ev("response", tag="f1"), start=mc))

    # 1000 pipelined requests
    mc = client.mark()
    t0 = time.monotonic()
    client.send(*[{"cmd": "request", "value": "echo", "kwargs": {"i": i}, "tag": "p%d" % i}
                  for i in range(1000)])
    got = client.wait_count(lambda e: e.get("event") == "response" and str(e.get("tag")).startswith("p"),
                            1000, timeout=15, start=mc)
    elapsed = time.monotonic() - t0
    check("1000 pipelined echo requests answered ({:.2f}s)".format(elapsed), len(got) == 1000, len(got))
    check("pipelined values match tags", all(e["value"] == {"args": [], "kwargs": {"i": int(e["tag"][1:])}}
                                             for e in got))
    check("pipelined request ids unique", len({e["request_id"] for e in got}) == len(got))

    # files
    blob = bytes(range(256)) * 20 + bytes(range(255, -1, -1))
    with open(os.path.join(croot, "all256.bin"), "wb") as f:
        f.write(blob)
    open(os.path.join(croot, "empty.bin"), "wb").close()
    with open(os.path.join(sroot, "srv.bin"), "wb") as f:
        f.write(blob[::-1])
    open(os.path.join(sroot, "srv_empty.bin"), "wb").close()
    sha = hashlib.sha256(blob).hexdigest()
    ms = server.mark()
    client.send({"cmd": "push", "local": "all256.bin", "remote": "pushed.bin"},
                {"cmd": "push", "local": "empty.bin", "remote": "pushed_empty.bin"})
    e = server.wait(ev("file_received", path="pushed.bin"), start=ms)
    check("push all 256 byte values", e and e["size"] == len(blob) and e["sha256"] == sha, e)
    with open(os.path.join(sroot, "pushed.bin"), "rb") as f:
        check("pushed file identical on disk", f.read() == blob)
    e = server.wait(ev("file_received", path="pushed_empty.bin"), start=ms)
    check("push empty file", e and e["size"] == 0 and os.path.getsize(os.path.join(sroot, "pushed_empty.bin")) == 0, e)

    mc = client.mark()
    client.send({"cmd": "pull", "remote": "srv.bin", "local": "pulled.bin", "tag": "pl1"},
                {"cmd": "pull", "remote": "srv_empty.bin", "local": "pulled_empty.bin", "tag": "pl2"},
                {"cmd": "pull", "remote": "srv.bin", "tag": "pl3"},
                {"cmd": "pull", "remote": "missing.bin", "local": "never.bin", "tag": "pl4"},
                {"cmd": "request", "value": "echo", "tag": "after_pull"})
    e = client.wait(ev("file", tag="pl1"), start=mc)
    check("pull binary file", e == {"event": "file", "tag": "pl1", "path": "pulled.bin", "ok": True,
                                    "size": len(blob), "sha256": hashlib.sha256(blob[::-1]).hexdigest()}, e)
    with open(os.path.join(croot, "pulled.bin"), "rb") as f:
        check("pulled file identical on disk", f.read() == blob[::-1])
    e = client.wait(ev("file", tag="pl2"), start=mc)
    check("pull empty file", e and e["ok"] and e["size"] == 0
          and os.path.getsize(os.path.join(croot, "pulled_empty.bin")) == 0, e)
    e = client.wait(ev("file", tag="pl3"), start=mc)
    check("pull default local path = last component", e and e["ok"] and e["path"] == "srv.bin"
          and os.path.isfile(os.path.join(croot, "srv.bin")), e)
    client.wait(ev("response", tag="after_pull"), start=mc)
    check("pull of a missing file gets no reply", not client.all(ev("file", tag="pl4"), start=mc)
          and not os.path.exists(os.path.join(croot, "never.bin")))
    mc = client.mark()
    server.send({"cmd": "push", "local": "srv.bin", "remote": "from_server.bin", "peer": 0})
    e = client.wait(ev("file_received", path="from_server.bin"), start=mc)
    check("server -> client push", e and e["size"] == len(blob), e)

    # raw frames (split in pieces, with an unknown header key)
    ms = server.mark()
    frame = rm.MessageManager.create_action_message("takeoff", [1], {"z": 1.5}, {"x-future": {"v": 2}})
    client.send({"cmd": "raw", "hex": frame[:5].hex()}, {"cmd": "sync", "tag": "raw1"},
                {"cmd": "raw", "hex": frame[5:].hex()})
    e = server.wait(ev("action", action="takeoff"), start=ms)
    check("raw split frame with unknown header key", e and e["args"] == [1] and e["kwargs"] == {"z": 1.5}
          and e["header_extra"] == {"x-future": {"v": 2}}, e)

    check("sync barrier", client.sync("s1") and server.sync("s2"))
    check("no disconnects so far", not server.all(ev("disconnected")) and not client.all(ev("disconnected")))

    # drop + reconnect with a pending slow request resent and answered
    ms, mc = server.mark(), client.mark()
    client.send({"cmd": "request", "value": "slow", "args": ["a", 2], "kwargs": {"delay": 0.8, "n": 7},
                 "tag": "slow1"})
    first = server.wait(ev("request", value="slow"), start=ms)
    check("slow request reached the server", first)
    client.send({"cmd": "drop"})
    check("client reports disconnected", client.wait(ev("disconnected"), start=mc))
    check("client reconnected", client.wait(ev("reconnected"), start=mc))
    check("server sees old peer go", server.wait(ev("disconnected", peer=0), start=ms))
    check("server accepts the reconnection", server.wait(ev("accepted", peer=1), start=ms))
    r = client.wait(ev("response", tag="slow1"), timeout=6, start=mc)
    check("pending slow request answered after reconnect",
          r and r["value"] == {"args": ["a", 2], "kwargs": {"delay": 0.8, "n": 7}}, r)
    reqs = server.all(ev("request", value="slow"), start=ms)
    check("slow request resent once with same id and args", len(reqs) == 2 and first
          and reqs[1]["request_id"] == first["request_id"] and reqs[1]["peer"] == 1
          and reqs[1]["args"] == ["a", 2] and reqs[1]["kwargs"] == {"delay": 0.8, "n": 7}, reqs)
    check("response id matches", r and first and r["request_id"] == first["request_id"])
    check("old connection's late reply dropped", server.wait(
        lambda e: e.get("event") == "error" and "dropped" in e.get("message", ""), timeout=3, start=ms))
    check("exactly one slow response", len(client.all(ev("response", tag="slow1"), start=mc)) == 1)
    mc = client.mark()
    client.send({"cmd": "request", "value": "echo", "args": ["new"], "tag": "post"})
    check("new connection works", client.wait(ev("response", tag="post"), start=mc))
    mc = client.mark()
    server.send({"cmd": "send", "action": "land"})
    check("server broadcasts to live peers only", client.wait(ev("action", action="land"), start=mc))

    # server-side drop: client reconnects again
    mc, ms = client.mark(), server.mark()
    server.send({"cmd": "drop", "peer": 1})
    check("server drop seen by client", client.wait(ev("disconnected"), start=mc))
    check("client reconnects after server drop", client.wait(ev("reconnected"), start=mc)
          and server.wait(ev("accepted", peer=2), start=ms))

    # test hook hold_first: the first copy of a request id is never answered, the resent copy is
    mc, ms = client.mark(), server.mark()
    client.send({"cmd": "request", "value": "slow", "args": ["h"], "kwargs": {"delay": 0.0, "hold_first": True},
                 "tag": "held"})
    check("held request reached the server", server.wait(ev("request", value="slow"), start=ms))
    time.sleep(0.3)
    check("first copy of a held request is not answered", not client.all(ev("response", tag="held"), start=mc))
    client.send({"cmd": "drop"})
    r = client.wait(ev("response", tag="held"), timeout=6, start=mc)
    check("resent copy of a held request is answered",
          r and r["value"] == {"args": ["h"], "kwargs": {"delay": 0.0, "hold_first": True}}, r)
    garbage = server.all(ev("__garbage__")) + client.all(ev("__garbage__"))
    check("stdout is JSON lines only", not garbage, garbage)


def main():
    global VERBOSE
    parser = argparse.ArgumentParser()
    parser.add_argument("--vectors", default=None)
    parser.add_argument("-v", "--verbose", action="store_true")
    opts = parser.parse_args()
    VERBOSE = opts.verbose
    t0 = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="interop-selftest-")
    try:
        try:
            vector_tests(find_vectors(opts.vectors), workdir)
        except Exception as error:  # keep going to the network part
            import traceback
            traceback.print_exc()
            check("vector tests ran", False, repr(error))
        try:
            network_tests(workdir)
        except Exception as error:
            import traceback
            traceback.print_exc()
            check("network tests ran", False, repr(error))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if VERBOSE:
        print("elapsed {:.1f}s".format(time.monotonic() - t0))
    print("{} passed, {} failed".format(len(PASSED), len(FAILED)))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
