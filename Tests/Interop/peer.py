#!/usr/bin/env python3
"""Command-line test peer built on refmessaging (the reference re-creation).

    python3 peer.py server [--host 127.0.0.1] [--port 0] [options]
    python3 peer.py client --port N [--host 127.0.0.1] [--reconnect] [options]

Options: --root DIR (chdir there: relative file paths resolve under it),
--id ID (value of the "id" request, default "pycopter"), --sequential-ids,
--resume-queue, --no-resend-requests, --quirk-resend-null-args,
--buffer-size N (default 1024), --verbose (reference logs on stderr).

Reads one JSON command per stdin line, prints one JSON event per stdout line
(flushed).  Commands: send, request, push, pull, raw, drop, sync, quit (see
Peer._exec); events: listening, connected, reconnected, accepted, action,
unknown_action, request, unknown_request, response, unexpected_response,
file, file_received, disconnected, sync, error.  In server mode every
connection-related event carries "peer": index (accept order, from 0).
"""

import argparse
import collections
import hashlib
import heapq
import itertools
import json
import logging
import os
import selectors
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refmessaging as rm  # noqa: E402

logger = logging.getLogger("peer")

PEER = None  # the running Peer (handlers need it for timers)

ACTIONS = ("test", "start", "led_fill", "takeoff", "land", "echo")
CLOVER_DIR = "/home/pi/catkin_ws/src/clever"


def _file_digest(path):
    with open(path, "rb") as f:
        data = f.read()
    return len(data), hashlib.sha256(data).hexdigest()


# -- handlers -------------------------------------------------------------

def _make_action_handler(name):
    def handler(conn, *args, **kwargs):
        conn.ev({"event": "action", "action": name, "args": list(args), "kwargs": kwargs,
                 "header_extra": conn.header_extra(("action",))})
    handler.__name__ = "action_" + name
    return handler


for _action in ACTIONS:
    rm.message_callback(_action)(_make_action_handler(_action))


@rm.request_callback("echo")
def _request_echo(conn, *args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


@rm.request_callback("time")
def _request_time(conn, *args, **kwargs):
    return time.time()


@rm.request_callback("id")
def _request_id(conn, *args, **kwargs):
    return PEER.opts.id


@rm.request_callback("clover_dir")
def _request_clover_dir(conn, *args, **kwargs):
    return CLOVER_DIR


@rm.request_callback("telemetry")
def _request_telemetry(conn, *args, **kwargs):
    return {
        "battery": [12.1, 0.87],
        "pos": [1.5, -2.25, 0.0],
        "mode": "OFFBOARD",
        "armed": False,
        "nan_value": float("nan"),
        "inf": float("inf"),
        "big": 12345678901234567890123,
        "text": "Дрон №7 ✈",
    }


@rm.request_callback("fail")
def _request_fail(conn, *args, **kwargs):
    raise RuntimeError("fail requested")


@rm.request_callback("slow")
def _request_slow(conn, *args, **kwargs):
    delay = float(kwargs.get("delay", 1.0))
    request = conn.current_request
    value = {"args": list(args), "kwargs": kwargs}
    if kwargs.get("hold_first"):
        # Test hook: the first copy of a request id is never answered, so a test of
        # resend-on-reconnect does not depend on the drop beating the delay.
        key = getattr(request, "request_id", None)
        if key not in PEER.held_requests:
            PEER.held_requests.add(key)
            return rm.DEFER
    PEER.call_later(delay, conn.deferred_reply, request, value)
    return rm.DEFER


# -- connection -----------------------------------------------------------

class PeerConnection(rm.ConnectionManager):
    def __init__(self, peer, index):
        super().__init__(sequential_ids=peer.opts.sequential_ids)
        self.peer = peer
        self.index = index
        self.buffer_size = peer.opts.buffer_size
        self.resume_queue = peer.opts.resume_queue
        self.resend_requests = not peer.opts.no_resend_requests
        self.quirk_resend_null_args = peer.opts.quirk_resend_null_args

    def ev(self, event):
        if self.peer.mode == "server":
            event["peer"] = self.index
        self.peer.emit(event)

    def error(self, message):
        self.ev({"event": "error", "message": message})

    def header_extra(self, kind_keys=()):
        """Header keys beyond the 5 required ones (and the kind's own keys)."""
        message = self.current_message
        if message is None or message.jsonheader is None:
            return {}
        return {k: v for k, v in message.jsonheader.items()
                if k not in rm.REQUIRED_HEADERS and k not in kind_keys}

    def deferred_reply(self, request, value):
        if self.socket is None or self.generation != request.generation:
            self.error("reply to {} {!r} dropped: connection gone".format(
                request.requested_value, request.request_id))
            return
        self.send_response(request.requested_value, request.request_id, value)

    # hooks
    def on_request_received(self, message, requested_value, request_id, args, kwargs):
        self.ev({"event": "request", "value": requested_value, "request_id": request_id,
                 "args": args, "kwargs": kwargs, "header_extra": self.header_extra()})

    def on_unknown_action(self, action, message):
        super().on_unknown_action(action, message)
        self.ev({"event": "unknown_action", "action": action})

    def on_action_error(self, action, error):
        super().on_action_error(action, error)
        self.error("action {!r} failed: {!r}".format(action, error))

    def on_unknown_request(self, requested_value, request_id, message):
        super().on_unknown_request(requested_value, request_id, message)
        self.ev({"event": "unknown_request", "value": requested_value, "request_id": request_id})

    def on_request_error(self, requested_value, request_id, error):
        super().on_request_error(requested_value, request_id, error)
        self.error("request {!r} (id {!r}) failed, no reply sent: {!r}".format(
            requested_value, request_id, error))

    def on_unexpected_response(self, message):
        super().on_unexpected_response(message)
        header = message.jsonheader
        self.ev({"event": "unexpected_response",
                 "requested_value": header.get("requested_value"),
                 "request_id": header.get("request_id"),
                 "content-type": header.get("content-type")})

    def on_file_written(self, filepath, content, ok, origin):
        if not ok:
            self.error("could not write file {!r}".format(filepath))
        elif origin == "push":
            self.ev({"event": "file_received", "path": filepath, "size": len(content),
                     "sha256": hashlib.sha256(content).hexdigest()})

    def on_protocol_warning(self, text):
        super().on_protocol_warning(text)
        self.error(text)


class _Listener:
    def __init__(self, sock):
        self.sock = sock


# -- the peer -------------------------------------------------------------

class Peer:
    def __init__(self, opts):
        self.opts = opts
        self.mode = opts.mode
        self.sel = selectors.DefaultSelector()
        self.notifier = rm.Notifier(self.sel)
        self.commands = collections.deque()
        self.timers = []
        self.held_requests = set()
        self._timer_seq = itertools.count()
        self.conns = []
        self.listener = None
        self.blocked_sync = None  # (tag, deadline)
        self.running = True
        self.reconnecting = False
        self.reconnect_tries = 0
        self._out_lock = threading.Lock()

    # output
    def emit(self, event):
        line = json.dumps(event) + "\n"
        with self._out_lock:
            try:
                sys.stdout.write(line)
                sys.stdout.flush()
            except (BrokenPipeError, ValueError):
                self.running = False

    def error(self, message):
        self.emit({"event": "error", "message": message})

    # timers
    def call_later(self, delay, fn, *args):
        heapq.heappush(self.timers, (time.monotonic() + max(0.0, delay), next(self._timer_seq), fn, args))

    def _run_timers(self):
        now = time.monotonic()
        while self.timers and self.timers[0][0] <= now:
            _, _, fn, args = heapq.heappop(self.timers)
            try:
                fn(*args)
            except Exception as error:
                logger.exception("timer failed")
                self.error("timer failed: {!r}".format(error))

    def _timeout(self):
        timeout = 1.0
        if self.timers:
            timeout = min(timeout, max(0.0, self.timers[0][0] - time.monotonic()))
        if self.blocked_sync is not None:
            timeout = min(timeout, 0.02)
        if self.commands:
            timeout = 0.0
        return timeout

    # connections
    def _connect_socket(self):
        try:
            sock = socket.create_connection((self.opts.host, self.opts.port), timeout=1.0)
        except OSError as error:
            logger.info("connect failed: %s", error)
            return None
        rm.prepare_socket(sock)
        return sock

    def start_client(self):
        cm = PeerConnection(self, 0)
        self.conns.append(cm)
        for attempt in range(50):
            sock = self._connect_socket()
            if sock is not None:
                cm.connect(self.sel, sock, (self.opts.host, self.opts.port))
                self.emit({"event": "connected"})
                return True
            time.sleep(0.2)
        self.error("could not connect to {}:{}".format(self.opts.host, self.opts.port))
        return False

    def start_server(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.opts.host, self.opts.port))
        sock.listen(128)
        sock.setblocking(False)
        self.listener = _Listener(sock)
        self.sel.register(sock, selectors.EVENT_READ, data=self.listener)
        self.emit({"event": "listening", "port": sock.getsockname()[1]})
        return True

    def _accept(self):
        while True:
            try:
                sock, addr = self.listener.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                self.error("accept failed: {!r}".format(error))
                return
            rm.prepare_socket(sock)
            cm = PeerConnection(self, len(self.conns))
            self.conns.append(cm)
            cm.connect(self.sel, sock, addr)
            cm.ev({"event": "accepted", "addr": "{}:{}".format(addr[0], addr[1])})

    def _lost(self, cm, error=None):
        if error is not None and not isinstance(error, rm.PeerClosed):
            cm.error("connection reset: {!r}".format(error))
        if cm.socket is not None:
            cm._close()
        cm.ev({"event": "disconnected"})
        if self.mode == "client" and self.opts.reconnect and self.running:
            self._schedule_reconnect()

    def _schedule_reconnect(self):
        if self.reconnecting:
            return
        self.reconnecting = True
        self.reconnect_tries = 0
        self.call_later(0.2, self._try_reconnect)

    def _try_reconnect(self):
        if not self.running:
            return
        cm = self.conns[0]
        if cm.socket is not None:
            self.reconnecting = False
            return
        self.reconnect_tries += 1
        sock = self._connect_socket()
        if sock is not None:
            self.reconnecting = False
            cm.connect(self.sel, sock, (self.opts.host, self.opts.port))  # same object
            self.emit({"event": "reconnected"})
        elif self.reconnect_tries < 50:
            self.call_later(0.2, self._try_reconnect)
        else:
            self.reconnecting = False
            self.error("reconnect failed after {} attempts".format(self.reconnect_tries))

    def _service(self, cm, fileobj, mask):
        if cm.socket is None or cm.socket is not fileobj:
            return
        try:
            cm.process_events(mask)
        except Exception as error:
            logger.debug("connection error", exc_info=True)
            self._lost(cm, error)
            return
        if cm.socket is None:  # closed by close()
            self._lost(cm)

    def _poll_io(self, timeout):
        for key, mask in self.sel.select(timeout):
            obj = key.data
            if obj is self.notifier:
                obj.process_events(mask)
            elif obj is self.listener:
                self._accept()
            elif isinstance(obj, PeerConnection):
                self._service(obj, key.fileobj, mask)

    def _live(self):
        return [cm for cm in self.conns if cm.socket is not None]

    def _all_flushed(self):
        return all(cm.is_flushed() for cm in self._live())

    # commands
    def _stdin_reader(self):
        try:
            for raw in sys.stdin.buffer:
                line = raw.strip()
                if not line:
                    continue
                try:
                    cmd = json.loads(line)
                    if not isinstance(cmd, dict):
                        raise ValueError("command is not a JSON object")
                except ValueError as error:
                    cmd = {"cmd": "__bad__", "error": "bad command line {!r}: {}".format(
                        line.decode("utf-8", "replace")[:200], error)}
                self.commands.append(cmd)
                self.notifier.notify()
        except Exception as error:  # stdin broken: treat like EOF
            logger.error("stdin reader: %r", error)
        self.commands.append({"cmd": "__eof__"})
        self.notifier.notify()

    def _run_commands(self):
        while self.running:
            if self.blocked_sync is not None:
                tag, deadline = self.blocked_sync
                if not self._all_flushed() and time.monotonic() < deadline:
                    return
                self.blocked_sync = None
                self.emit({"event": "sync", "tag": tag})
            if not self.commands:
                return
            cmd = self.commands.popleft()
            try:
                self._exec(cmd)
            except Exception as error:
                logger.exception("command failed")
                self.error("command {!r} failed: {!r}".format(cmd.get("cmd"), error))

    def _targets(self, cmd):
        if self.mode == "client":
            return list(self.conns)  # even while disconnected: frames queue
        if "peer" in cmd and cmd["peer"] is not None:
            index = cmd["peer"]
            if not isinstance(index, int) or not 0 <= index < len(self.conns) \
                    or self.conns[index].socket is None:
                self.error("no connected peer {!r}".format(index))
                return []
            return [self.conns[index]]
        live = self._live()
        if not live:
            self.error("no connected peers for {!r}".format(cmd.get("cmd")))
        return live

    def _exec(self, cmd):
        name = cmd.get("cmd")
        if name == "send":
            for cm in self._targets(cmd):
                cm.send_message(cmd["action"], cmd.get("args", []), cmd.get("kwargs", {}),
                                additional_headers=cmd.get("headers"))
        elif name == "request":
            for cm in self._targets(cmd):
                ck = {"tag": cmd.get("tag")}
                rid = cm.get_response(cmd["value"], self._on_response,
                                      request_args=cmd.get("args", []),
                                      request_kwargs=cmd.get("kwargs", {}),
                                      callback_kwargs=ck,
                                      request_id=cmd.get("request_id"),
                                      additional_headers=cmd.get("headers"))
                ck["request_id"] = rid
        elif name == "push":
            for cm in self._targets(cmd):
                if not cm.send_file(cmd["local"], cmd["remote"]):
                    cm.error("push: can not read {!r}".format(cmd["local"]))
        elif name == "pull":
            for cm in self._targets(cmd):
                cm.get_file(cmd["remote"], cmd.get("local"), callback=self._on_file,
                            callback_kwargs={"tag": cmd.get("tag")})
        elif name == "raw":
            for cm in self._targets(cmd):
                cm.send_raw(bytes.fromhex(cmd["hex"]))
        elif name == "drop":
            for cm in self._targets(cmd):
                if cm.socket is not None:
                    self._lost(cm)
        elif name == "sync":
            self.blocked_sync = (cmd.get("tag"), time.monotonic() + 10.0)
        elif name == "quit" or name == "__eof__":
            self.running = False
        elif name == "__bad__":
            self.error(cmd["error"])
        else:
            self.error("unknown command {!r}".format(name))

    @staticmethod
    def _on_response(conn, value, tag=None, request_id=None):
        conn.ev({"event": "response", "tag": tag, "value": value, "request_id": request_id})

    @staticmethod
    def _on_file(conn, value, tag=None, filepath=None):
        ok = value is True and bool(conn.last_filetransfer_ok)
        event = {"event": "file", "tag": tag, "path": filepath, "ok": ok}
        if ok:
            try:
                event["size"], event["sha256"] = _file_digest(filepath)
            except OSError:
                event["ok"] = False
        conn.ev(event)

    # main loop
    def run(self):
        ok = self.start_server() if self.mode == "server" else self.start_client()
        if not ok:
            return 1
        threading.Thread(target=self._stdin_reader, name="stdin", daemon=True).start()
        while self.running:
            self._poll_io(self._timeout())
            self._run_timers()
            self._run_commands()
        self._shutdown()
        return 0

    def _shutdown(self):
        # give queued frames a moment to go out, then close everything
        deadline = time.monotonic() + 2.0
        while not self._all_flushed() and time.monotonic() < deadline:
            self._poll_io(0.05)
        for cm in self._live():
            cm._close()
        if self.listener is not None:
            try:
                self.sel.unregister(self.listener.sock)
            except (KeyError, ValueError):
                pass
            self.listener.sock.close()


def main(argv=None):
    global PEER
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("server", "client"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--root", default=None, help="chdir here; relative paths resolve under it")
    parser.add_argument("--id", default="pycopter", help='value of the "id" request')
    parser.add_argument("--reconnect", action="store_true",
                        help="client: reconnect the same ConnectionManager after a drop")
    parser.add_argument("--sequential-ids", action="store_true",
                        help="request ids 0001, 0002, ... instead of random (reference)")
    parser.add_argument("--resume-queue", action="store_true")
    parser.add_argument("--no-resend-requests", action="store_true")
    parser.add_argument("--quirk-resend-null-args", action="store_true",
                        help="resend pending requests as the reference does (args null, kwargs {})")
    parser.add_argument("--buffer-size", type=int, default=1024)
    parser.add_argument("--verbose", action="store_true")
    opts = parser.parse_args(argv)
    if opts.port is None:
        if opts.mode == "client":
            parser.error("client needs --port")
        opts.port = 0

    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if opts.verbose else logging.WARNING,
                        format="%(asctime)s peer-" + opts.mode + " %(name)s %(levelname)s: %(message)s")
    if opts.root:
        os.makedirs(opts.root, exist_ok=True)
        os.chdir(opts.root)

    PEER = Peer(opts)
    return PEER.run()


if __name__ == "__main__":
    code = main()
    # os._exit: a normal interpreter shutdown can abort while the daemon
    # stdin-reader thread holds the stdin buffer lock.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    logging.shutdown()
    os._exit(code or 0)
