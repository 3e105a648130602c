#!/usr/bin/env python3
"""A judge ground station, written from ``shared/protocol/DRONE.md``.

    python3 station.py --count N [--host 127.0.0.1] [--port 0]
                       [--git-version HASH] [--root DIR] [--timeout S] [--keep-going]

It listens, accepts drones and keys them by **source IP only**, as the
reference ground station does (DRONE.md 1): on every accept it requests
``id``; the first reply from an IP makes a table row and requests
``clover_dir``; a new connection from a known IP replaces the old socket.
Every telemetry record (push or ``telemetry`` reply) is judged field by field
with the colour rules of DRONE.md 4.2, and buttons with the rules of 4.3.
Then it walks, for all N drones at once:

1. rows: N rows, N distinct IPs, ``clover_dir`` an absolute path;
2. pushes: a telemetry push from every row within 3 s (1 Hz default);
3. preflight (Preflight check = request ``telemetry``): every cell green but
   the animation's two; Takeoff enabled (``takeoff_checks``);
4. config edit (DRONE.md 5): ``config`` with ``send_configspec`` true gives
   ``{config, configspec}``, false gives ``{config}``; a ``rewrite`` bumping
   ``config_version`` shows in the record;
5. calibration and parameters (2.1, 4.3): Calibrate enabled, then
   ``calibrate_gyro`` and ``calibrate_level`` answered with a status string;
   ``temp.params`` pushed and ``load_params`` answered ``true``;
6. animation push (6.1, 7.2): each drone's own ``animation.csv`` (id line, a
   show starting where the drone stands); ``animation_info`` becomes
   ``[id, "OK"]``, ``start_position`` a fly start; then a second preflight
   with every cell green and Start animation enabled (``all_checks``);
7. timed start (7.1): ``start`` with ``time = str(T)``: before T
   ``last_task`` is ``execute_frame in N.N s``, after it the drone flies
   (armed, OFFBOARD, z above 0.5 m);
8. land (3): ``land`` while airborne: ``land``/``AUTO.LAND``, then disarmed,
   ``STANDBY`` and ``No task``;
9. aruco map (6.1): pushed to ``<clover_dir>/../aruco_pose/map/``, then
   ``service_restart clover``: ``selfcheck`` is ``"OK"`` again within 30 s
   (and with ``--root`` the file is on disk in the drone's folder);
10. rename (1.4): action ``id`` with ``new_id``: the drone restarts and
   reconnects from the same IP, answering ``id`` with the new name lower-cased.

Any reply or push the reference station could not unpack (wrong shape, a
request left unanswered) fails the run. The walk stops after the first step
with a finding unless ``--keep-going`` is given. Exit status 0 when every step passed;
1 with one ``FAIL <drone> <field>: <why>`` line per finding on stderr.
Progress goes to stdout as JSON lines: first ``{"listening": PORT}``.
"""

import argparse
import json
import os
import re
import selectors
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refmessaging as rm  # noqa: E402
from station_rules import (ALL_CHECKS, CONFIG_ROOT, RECORD_KEYS, TAKEOFF_CHECKS, checks,  # noqa: E402
                           config_shape, failing, is_number, unpackable)

class Failed(Exception):
    pass


class Row:
    """One table row: what the GS knows of one drone (keyed by its IP)."""

    def __init__(self, ip, copter_id):
        self.ip = ip
        self.copter_id = copter_id
        self.clover_dir = None
        self.cells = {}      # key -> stored value (a cell the GS accepted)
        self.records = []    # (received at, record) every record judged
        self.pushes = 0
        self.id_replies = []  # (received at, id) of every id reply from this IP
        self.connected = True


class Link:
    """One accepted socket."""

    def __init__(self, station, sock, ip):
        self.station = station
        self.sock = sock
        self.ip = ip
        self.incoming = None
        self.buffer = bytearray()
        self.out = bytearray()
        self.closed = False

    def send(self, frame):
        with self.station.lock:
            if self.closed:
                return
            self.out += frame
        self.station.wake()

    def feed(self, data):
        self.buffer += data
        while self.buffer:
            if self.incoming is None:
                self.incoming = rm.MessageManager()
            message = self.incoming
            message.income_raw += self.buffer
            self.buffer = bytearray()
            message.process_message()
            if not message.complete:
                break
            self.buffer = message.income_raw
            message.income_raw = bytearray()
            self.incoming = None
            self.station.received(self, message.jsonheader, message.content)


class Station:
    def __init__(self, opts):
        self.opts = opts
        self.lock = threading.Condition()
        self.rows = {}        # ip -> Row
        self.links = {}       # ip -> Link (the current one)
        self.pending = {}     # (ip, request_id) -> [requested_value, reply or None, done]
        self.failures = []
        self.seen = set()
        self.failures_before = 0
        self.next_id = 1000
        self.selector = selectors.DefaultSelector()
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)  # a wake that finds one pending needs no second byte: never block the I/O thread on it
        self.selector.register(self.wake_r, selectors.EVENT_READ, "wake")
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((opts.host, opts.port))
        self.listener.listen(1024)
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, "listen")
        self.running = True

    # -- output ------------------------------------------------------------

    @staticmethod
    def say(obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    def fail(self, drone, field, why):
        line = "FAIL %s %s: %s" % (drone, field, why)
        with self.lock:
            if line not in self.seen:  # every record repeats a finding: said once
                self.seen.add(line)
                self.failures.append(line)

    def name(self, ip):
        row = self.rows.get(ip)
        return row.copter_id if row else ip

    # -- I/O thread ----------------------------------------------------------

    def wake(self):
        try:
            self.wake_w.send(b"x")
        except OSError:
            pass

    def io_loop(self):
        while self.running:
            with self.lock:
                for link in list(self.links.values()):
                    if link.closed:
                        continue
                    mask = selectors.EVENT_READ | (selectors.EVENT_WRITE if link.out else 0)
                    try:
                        self.selector.modify(link.sock, mask, link)
                    except (KeyError, ValueError):
                        pass
            for key, mask in self.selector.select(timeout=0.2):
                if key.data == "wake":
                    try:
                        self.wake_r.recv(4096)
                    except OSError:
                        pass
                elif key.data == "listen":
                    self.accept()
                else:
                    self.service(key.data, mask)

    def accept(self):
        while True:
            try:
                sock, (ip, _) = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            link = Link(self, sock, ip)
            with self.lock:
                old = self.links.get(ip)
                self.links[ip] = link
                if old is not None:
                    # Keyed by source IP only: a known IP is that drone reconnecting.
                    self.drop(old)
                row = self.rows.get(ip)
                if row:
                    row.connected = True
                self.lock.notify_all()
            self.selector.register(sock, selectors.EVENT_READ, link)
            self.request(link, "id", on_reply=self.got_id)

    def drop(self, link):
        if link.closed:
            return
        link.closed = True
        try:
            self.selector.unregister(link.sock)
        except (KeyError, ValueError):
            pass
        link.sock.close()

    def service(self, link, mask):
        if link.closed:
            return
        if mask & selectors.EVENT_READ:
            try:
                data = link.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError:
                data = b""
            if data == b"":
                with self.lock:
                    self.drop(link)
                    if self.links.get(link.ip) is link:
                        if link.ip in self.rows:
                            self.rows[link.ip].connected = False
                    self.lock.notify_all()
                return
            if data:
                try:
                    link.feed(data)
                except rm.ProtocolError as error:
                    self.fail(self.name(link.ip), "frame", "the reference's decoder fails: %s" % error)
                    with self.lock:
                        self.drop(link)
                    return
        if mask & selectors.EVENT_WRITE:
            with self.lock:
                data = bytes(link.out)
            try:
                sent = link.sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                sent = 0
            with self.lock:
                del link.out[:sent]

    # -- frames ------------------------------------------------------------

    def request(self, link, value, kwargs=None, on_reply=None):
        with self.lock:
            self.next_id += 1
            request_id = str(self.next_id)
            entry = {"value": value, "reply": None, "done": False, "on_reply": on_reply, "link": link}
            self.pending[(link.ip, request_id)] = entry
        link.send(rm.MessageManager.create_request(value, request_id, [], kwargs or {}))
        return entry

    def action(self, ip, name, kwargs=None):
        with self.lock:
            link = self.links.get(ip)
        if link is not None:
            link.send(rm.MessageManager.create_action_message(name, [], kwargs or {}))

    def push_file(self, ip, data, path):
        with self.lock:
            link = self.links.get(ip)
        if link is not None:
            link.send(rm.MessageManager.create_file_message(data, path))

    def received(self, link, header, content):
        kind = header.get("message-type")
        if kind == "response":
            key = (link.ip, str(header.get("request_id")))
            with self.lock:
                entry = self.pending.pop(key, None)
            if entry is None or entry["value"] != header.get("requested_value"):
                self.fail(self.name(link.ip), "response", "a response that matches no request: %r" % header)
                return
            if header.get("content-type") == "json":
                if not isinstance(content, dict) or "value" not in content:
                    self.fail(self.name(link.ip), entry["value"], "a response without a value: %r" % (content,))
                    return
                value = content["value"]
            else:
                value = content
            on_reply = entry["on_reply"]
            if on_reply is not None:
                on_reply(link, value)
            with self.lock:
                entry["reply"] = value
                entry["done"] = True
                self.lock.notify_all()
        elif kind == "message":
            action = header.get("action")
            if action == "telemetry":
                self.telemetry_push(link, content)
            elif action == "filetransfer":
                self.fail(self.name(link.ip), "filetransfer", "a drone pushed a file the station never asked for")
            # The GS registers few actions; any other is logged and dropped (not a failure).
        elif kind == "request":
            self.fail(self.name(link.ip), "request", "the drone sent a request; the GS answers none: %r" % (content,))

    def got_id(self, link, value):
        if not isinstance(value, str):
            self.fail(link.ip, "id", "the id reply must be a string, got %r" % (value,))
            return
        with self.lock:
            row = self.rows.get(link.ip)
            first = row is None
            if first:
                row = self.rows[link.ip] = Row(link.ip, value)
            row.connected = True
            row.id_replies.append((time.time(), value))
            self.lock.notify_all()
        if first:
            self.request(link, "clover_dir", on_reply=self.got_clover_dir)

    def got_clover_dir(self, link, value):
        with self.lock:
            row = self.rows.get(link.ip)
            if row is not None:
                row.clover_dir = value
                self.lock.notify_all()

    def telemetry_push(self, link, content):
        drone = self.name(link.ip)
        if not isinstance(content, dict):
            self.fail(drone, "telemetry", "push content is not an object: %r" % (content,))
            return
        args = content.get("args") or []
        kwargs = content.get("kwargs") or {}
        if args:
            # get_telem_data(client, value, **kwargs): a positional arg collides with value.
            self.fail(drone, "telemetry", "push with positional args %r: the GS handler raises TypeError" % (args,))
            return
        if "value" not in kwargs:
            self.fail(drone, "telemetry", "push without kwargs.value: the GS handler raises TypeError")
            return
        with self.lock:
            row = self.rows.get(link.ip)
            if row is None:
                return  # a push before the row exists is dropped without notice
            row.pushes += 1
        self.judge_record(row, kwargs["value"])

    # -- the table model (DRONE.md 4.2) --------------------------------------

    def judge_record(self, row, record):
        drone = row.copter_id
        now = time.time()
        if not isinstance(record, dict):
            self.fail(drone, "telemetry", "the record is not an object: %r" % (record,))
            return
        if "copter_id" in record:
            self.fail(drone, "copter_id", "the record must not hold copter_id (the GS writes it into column 0)")
        missing = [k for k in RECORD_KEYS if k not in record]
        extra = [k for k in record if k not in RECORD_KEYS]
        if missing:
            self.fail(drone, "telemetry", "keys missing: %s" % ", ".join(missing))
        if extra:
            self.fail(drone, "telemetry", "keys the reference never sends: %s" % ", ".join(extra))
        cells = {}
        for key in RECORD_KEYS:
            if key not in record:
                continue
            value = record[key]
            if value is None:
                if key == "time_delta":
                    self.fail(drone, key, "null: the GS formatter throws")
                elif key == "last_task":
                    cells[key] = "No task"
                continue  # null is rejected by setData; the cell keeps its old value
            why = unpackable(key, value)
            if why:
                self.fail(drone, key, "%s (got %r)" % (why, value))
                continue
            cells[key] = abs(value - now) if key == "time_delta" else value
        with self.lock:
            row.cells.update(cells)
            row.records.append((now, record))
            self.lock.notify_all()

    # -- the walk ----------------------------------------------------------

    def wait(self, predicate, timeout):
        deadline = time.time() + timeout
        with self.lock:
            while not predicate():
                left = deadline - time.time()
                if left <= 0:
                    return False
                self.lock.wait(min(left, 0.2))
            return True

    def request_all(self, value, kwargs=None, timeout=None):
        """Requests `value` from every row; returns {ip: reply}; unanswered ones fail."""
        timeout = timeout or self.opts.timeout
        entries = {}
        with self.lock:
            ips = [ip for ip, row in self.rows.items() if row.connected]
        for ip in ips:
            with self.lock:
                link = self.links.get(ip)
            if link is not None:
                entries[ip] = self.request(link, value, kwargs)
        self.wait(lambda: all(e["done"] for e in entries.values()), timeout)
        replies = {}
        for ip, entry in entries.items():
            if entry["done"]:
                replies[ip] = entry["reply"]
            else:
                self.fail(self.name(ip), value, "no reply within %.0f s (the GS waits for ever)" % timeout)
        return replies

    def step(self, name):
        with self.lock:
            failures = len(self.failures)
        passed = failures == self.failures_before
        self.failures_before = failures
        if not passed and not self.opts.keep_going:
            raise Failed(name)
        self.say({"step": name, "passed": passed, "drones": len(self.rows)})

    def run_walk(self):
        o = self.opts
        # 1. rows
        ok = self.wait(lambda: sum(1 for r in self.rows.values() if r.clover_dir is not None) >= o.count, o.timeout)
        if not ok:
            self.fail("station", "rows", "%d of %d drones identified (id and clover_dir) within %.0f s"
                      % (len(self.rows), o.count, o.timeout))
        for row in self.rows.values():
            if not isinstance(row.clover_dir, str) or not row.clover_dir.startswith("/"):
                self.fail(row.copter_id, "clover_dir", "must be an absolute path, got %r" % (row.clover_dir,))
        ids = [r.copter_id for r in self.rows.values()]
        if len(set(ids)) != len(ids):
            self.fail("station", "id", "two rows answered one id: %r" % sorted(ids))
        self.step("rows")

        # 2. telemetry pushes at TELEMETRY_frequency (default 1 Hz)
        if not self.wait(lambda: all(r.pushes >= 2 for r in self.rows.values()), 3.5):
            for r in self.rows.values():
                if r.pushes < 2:
                    self.fail(r.copter_id, "telemetry", "%d pushes in 3.5 s (the reference pushes at 1 Hz)" % r.pushes)
        self.step("telemetry pushes")

        # 3. preflight check on the ground, before any animation
        for ip, record in self.request_all("telemetry").items():
            self.judge_record(self.rows[ip], record)
        for row in self.rows.values():
            for key, why in failing(row.cells, TAKEOFF_CHECKS + ("git_version", "calibration_status", "time_delta"),
                                     self.opts.git_version):
                self.fail(row.copter_id, key, why + " (preflight on the ground)")
        self.step("preflight")

        # 4. config edit
        self.config_edit()
        self.step("config edit")

        # 5. calibration and FCU parameters
        self.calibration_and_params()
        self.step("calibration and parameters")

        # 6. animation push
        self.animation_push()
        self.step("animation push")
        for ip, record in self.request_all("telemetry").items():
            self.judge_record(self.rows[ip], record)
        for row in self.rows.values():
            for key, why in failing(row.cells, ALL_CHECKS, self.opts.git_version):
                self.fail(row.copter_id, key, why + " (Start animation disabled)")
        self.step("preflight with animation")

        # 7. timed start, 8. land
        self.timed_start_and_land()
        self.step("timed start and land")

        # 9. aruco map beside clover_dir, then a clover restart
        self.aruco_push()
        self.step("aruco map")

        # 10. rename: the id action, then a restart answering the new name
        self.rename()
        self.step("rename")

    def config_edit(self):
        with_spec = self.request_all("config", {"send_configspec": True})
        without = self.request_all("config", {"send_configspec": False})
        edits = {}
        for ip, reply in with_spec.items():
            drone = self.name(ip)
            if not isinstance(reply, dict) or "config" not in reply:
                self.fail(drone, "config", "reply is not {config, configspec}: KeyError 'config' in the editor (got %s)"
                          % json.dumps(reply)[:200])
                continue
            if "configspec" not in reply or not isinstance(reply["configspec"], dict):
                self.fail(drone, "config", "send_configspec true: the reply lacks the configspec object")
                continue
            config, spec = reply["config"], reply["configspec"]
            if not isinstance(config, dict):
                self.fail(drone, "config", "config is not an object")
                continue
            missing = [k for k in CONFIG_ROOT if k not in config]
            if missing:
                self.fail(drone, "config", "root keys missing: %s" % ", ".join(missing))
            if "PRIVATE" in config:
                self.fail(drone, "config", "the reference has no PRIVATE section")
            problems = config_shape(config, spec, [])
            for p in problems[:5]:
                self.fail(drone, "config", p)
            if problems:
                continue
            edits[ip] = config
        for ip, reply in without.items():
            if not isinstance(reply, dict) or "config" not in reply or "configspec" in reply:
                self.fail(self.name(ip), "config", "send_configspec false: the reply must be {config} alone, got keys %r"
                          % (sorted(reply) if isinstance(reply, dict) else reply,))
        # Edit config: rewrite with every option typed, config_version bumped.
        expected = {}
        for ip, config in edits.items():
            version = config["config_version"]["__value__"]
            name = config["config_name"]["__value__"]
            new = version + 1 if is_number(version) else "%s.1" % version
            rewritten = json.loads(json.dumps(config))
            rewritten["config_version"]["__value__"] = new
            self.action(ip, "config", {"config": rewritten, "mode": "rewrite"})
            expected[ip] = "%s V%s" % (name, new)
        if not self.wait(lambda: all(self.rows[ip].cells.get("config_version") == v for ip, v in expected.items()), 4):
            for ip, v in expected.items():
                got = self.rows[ip].cells.get("config_version")
                if got != v:
                    self.fail(self.name(ip), "config_version", "after a config rewrite expected %r, got %r" % (v, got))

    def calibration_and_params(self):
        # Calibrate gyro/level are enabled when the fcu_status check passes and
        # calibration_status is not CALIBRATING (4.3); the reply is the status afterwards.
        for row in self.rows.values():
            colours = checks(row.cells, self.opts.git_version)
            if colours["fcu_status"] is not True or row.cells.get("calibration_status") == "CALIBRATING":
                self.fail(row.copter_id, "fcu_status", "Calibrate disabled: fcu_status %r, calibration_status %r"
                          % (row.cells.get("fcu_status"), row.cells.get("calibration_status")))
        for request in ("calibrate_gyro", "calibrate_level"):
            for ip, reply in self.request_all(request, timeout=max(self.opts.timeout, 30)).items():
                if not isinstance(reply, str):
                    self.fail(self.name(ip), request, "the reply must be the calibration status string, got %r" % (reply,))
        # Send > FCU parameters: temp.params pushed, then load_params requested (a bool reply).
        params = "".join("1\t1\t%s\t%s\t%d\n" % (name, value, kind)
                         for name, value, kind in (("MPC_XY_VEL_MAX", "2.5", 9), ("COM_ARM_WO_GPS", "1", 6)))
        params = "# Onboard parameters\n" + params
        for ip in self.rows:
            self.push_file(ip, params.encode(), "temp.params")
        for ip, reply in self.request_all("load_params").items():
            if reply is not True:
                self.fail(self.name(ip), "load_params", "the reply must be true after temp.params was pushed, got %r" % (reply,))

    def aruco_push(self):
        # Send > Aruco map: <clover_dir>/../aruco_pose/map/animation_map.txt, then service_restart clover.
        data = b"0\t0.33\t0\t0\t0\t0\t0\t0\n1\t0.33\t1\t0\t0\t0\t0\t0\n"
        for ip, row in self.rows.items():
            if isinstance(row.clover_dir, str):
                self.push_file(ip, data, "%s/../aruco_pose/map/animation_map.txt" % row.clover_dir)
                self.action(ip, "service_restart", {"name": "clover"})
        # The drone's selfcheck shows ["WAIT_ROS"] for a while, then "OK" again.
        since = time.time()
        recovered = lambda row: any(r.get("selfcheck") == "OK" for r in self.records_since(row, since + 0.5))
        if not self.wait(lambda: all(recovered(row) for row in self.rows.values()), 30):
            for row in self.rows.values():
                if not recovered(row):
                    self.fail(row.copter_id, "selfcheck", "not \"OK\" again within 30 s of service_restart clover")
        if self.opts.root:
            for ip, row in self.rows.items():
                folder = os.path.join(self.opts.root, row.copter_id)
                found = False
                for directory, _, names in os.walk(folder):
                    if "animation_map.txt" in names and directory.endswith(os.path.join("aruco_pose", "map")):
                        with open(os.path.join(directory, "animation_map.txt"), "rb") as f:
                            found = found or f.read() == data
                if not found:
                    self.fail(row.copter_id, "aruco map", "no aruco_pose/map/animation_map.txt with the pushed bytes under %s" % folder)

    def rename(self):
        # Editing the copter ID cell sends action id {new_id}; the drone writes its
        # config and restarts its service: it reconnects from the same IP and
        # answers id with the new name, lower-cased (DRONE.md 1.4).
        since = time.time()
        expected = {}
        for ip, row in self.rows.items():
            new = (row.copter_id[:55] + "-Renamed").lstrip("-")
            if not re.match(r"^(?!-)[A-Za-z0-9-]{1,63}$", new):
                continue  # the GS accepts no such name: it sends nothing
            self.action(ip, "id", {"new_id": new})
            expected[ip] = new.lower()
        renamed = lambda ip: any(t >= since and v == expected[ip] for t, v in self.rows[ip].id_replies)
        if not self.wait(lambda: all(renamed(ip) for ip in expected), 20):
            for ip, new in expected.items():
                if not renamed(ip):
                    replies = [v for t, v in self.rows[ip].id_replies if t >= since]
                    self.fail(self.name(ip), "id", "20 s after the id action no reconnect answered %r (id replies since: %r)"
                              % (new, replies))

    def animation_csv(self, copter_id, x, y):
        """A show that starts where the drone stands: 1 s standing, up to 1 m in 2 s, 8 s hold, down in 2 s."""
        lines = [copter_id]
        n = 0
        z_track = [0.0] * 10 + [i / 20.0 for i in range(1, 21)] + [1.0] * 80 + [1.0 - i / 20.0 for i in range(1, 21)]
        for z in z_track:
            lines.append("%d,%.3f,%.3f,%.3f,0,255,255,255" % (n, x, y, z))
            n += 1
        return ("\n".join(lines) + "\n").encode()

    def animation_push(self):
        sent = {}
        for ip, row in self.rows.items():
            current = row.cells.get("current_position")
            if not isinstance(current, list):
                self.fail(row.copter_id, "current_position", "no position to build its show from")
                continue
            data = self.animation_csv(row.copter_id, current[0], current[1])
            # Send > Animations: drones whose id matches the file stem; destination animation.csv.
            self.push_file(ip, data, "animation.csv")
            sent[ip] = data
        ready = lambda ip: (self.rows[ip].cells.get("animation_info") == [self.rows[ip].copter_id, "OK"]
                            and isinstance(self.rows[ip].cells.get("start_position"), list)
                            and self.rows[ip].cells["start_position"][4] == "fly")
        if not self.wait(lambda: all(ready(ip) for ip in sent), 5):
            for ip in sent:
                if not ready(ip):
                    row = self.rows[ip]
                    self.fail(row.copter_id, "animation_info", "5 s after the push: animation_info %r, start_position %r "
                              "(expected [%r, \"OK\"] and a fly start)" % (row.cells.get("animation_info"),
                                                                        row.cells.get("start_position"), row.copter_id))
        if self.opts.root:
            for ip, data in sent.items():
                path = os.path.join(self.opts.root, self.rows[ip].copter_id, "animation.csv")
                try:
                    with open(path, "rb") as f:
                        if f.read() != data:
                            self.fail(self.name(ip), "animation.csv", "%s differs from the pushed bytes" % path)
                except OSError as error:
                    self.fail(self.name(ip), "animation.csv", "not in the drone's folder: %s" % error)

    def records_since(self, row, since):
        with self.lock:
            return [r for t, r in row.records if t >= since]

    def timed_start_and_land(self):
        lead = 3.0
        begin = time.time()
        start_at = begin + lead + 0.1
        for ip in self.rows:
            self.action(ip, "start", {"time": str(start_at)})
        # Before T: execute_frame in N.N s.
        time.sleep(max(0, start_at - time.time() - 0.3))
        waiting = re.compile(r"^execute_frame in \d+\.\d s$")
        for row in self.rows.values():
            tasks = [r.get("last_task") for r in self.records_since(row, begin)]
            if not any(isinstance(t, str) and waiting.match(t) for t in tasks):
                self.fail(row.copter_id, "last_task", "before the start time expected 'execute_frame in N.N s', got %r" % tasks)
        # In flight: armed, OFFBOARD, above 0.5 m.
        def flying(r):
            p = r.get("current_position")
            return r.get("armed") is True and r.get("mode") == "OFFBOARD" and isinstance(p, list) and is_number(p[2]) and p[2] > 0.5
        airborne = lambda row: any(flying(r) for r in self.records_since(row, start_at))
        if not self.wait(lambda: all(airborne(row) for row in self.rows.values()), 6):
            for row in self.rows.values():
                if not airborne(row):
                    last = self.records_since(row, start_at)[-1:] or [{}]
                    self.fail(row.copter_id, "flight", "6 s after the start no record shows armed, OFFBOARD, z > 0.5; last: %s"
                              % json.dumps({k: last[0].get(k) for k in ("armed", "mode", "current_position", "last_task")}))
        # Land ALL while airborne.
        landing_at = time.time()
        for ip in self.rows:
            self.action(ip, "land")
        def landing(r):
            return r.get("last_task") == "land" or r.get("mode") == "AUTO.LAND"
        def landed(row):
            recs = self.records_since(row, landing_at)
            if not any(landing(r) for r in recs):
                return False
            last = recs[-1]
            return last.get("armed") is False and last.get("fcu_status") == "STANDBY" and last.get("last_task") == "No task"
        if not self.wait(lambda: all(landed(row) for row in self.rows.values()), 15):
            for row in self.rows.values():
                if not landed(row):
                    recs = self.records_since(row, landing_at)
                    self.fail(row.copter_id, "land", "15 s after land: saw land/AUTO.LAND %s; last %s"
                              % (any(landing(r) for r in recs), json.dumps({k: (recs[-1:] or [{}])[0].get(k)
                                                                          for k in ("armed", "fcu_status", "mode", "last_task")})))

    def close(self):
        self.running = False
        self.wake()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--count", type=int, required=True, help="drones expected")
    parser.add_argument("--git-version", default=None,
                        help="the GS's own hash; without it the version check passes (a GS outside a git checkout)")
    parser.add_argument("--root", default=None, help="the swarm's --root: pushed files are checked on disk there")
    parser.add_argument("--keep-going", action="store_true",
                        help="walk every step even after a failing one (later steps may fail for the earlier cause)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the drones and for each reply")
    opts = parser.parse_args(argv)
    station = Station(opts)
    Station.say({"listening": station.listener.getsockname()[1]})
    io = threading.Thread(target=station.io_loop, daemon=True)
    io.start()
    status = 0
    try:
        station.run_walk()
        if station.failures:
            raise Failed("(kept going)")
        Station.say({"passed": True, "drones": len(station.rows)})
    except Failed as step:
        with station.lock:
            failures = list(station.failures)
        for line in failures[:200]:
            sys.stderr.write(line + "\n")
        if len(failures) > 200:
            sys.stderr.write("... and %d more\n" % (len(failures) - 200))
        Station.say({"passed": False, "step": str(step), "failures": len(failures), "first": failures[:20]})
        status = 1
    station.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    main()
