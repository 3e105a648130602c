#!/usr/bin/env python3
"""A few drones that follow DRONE.md just enough to pass ``station.py``.

    python3 fake_fleet.py --port N [--count 3] [--source 127.0.3.1]
                          [--git-version 2062940] [--break FIELD]

It exists to check the judge itself: against these drones ``station.py`` must
pass, and with ``--break FIELD`` (``telemetry-shape``, ``config``,
``no-push``, ``position``) it must fail naming that field. One thread per
drone; each dials from its own loopback address.
"""

import argparse
import math
import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refmessaging as rm  # noqa: E402

MM = rm.MessageManager


class Drone:
    def __init__(self, opts, n):
        self.opts = opts
        self.id = "fake-%d" % n
        self.source = opts.source.rsplit(".", 1)[0] + "." + str(int(opts.source.rsplit(".", 1)[1]) + n - 1)
        self.x, self.y = float(n), 0.0
        self.z = 0.0
        self.lock = threading.RLock()
        self.frames = None       # [(x, y, z)] of the pushed animation
        self.anim_id = None
        self.version = 1.0
        self.tasks = []          # [(at, name, effect)]
        self.armed = False
        self.mode = "POSCTL"
        self.sock = None

    def record(self):
        with self.lock:
            now = time.time()
            while self.tasks and self.tasks[0][0] <= now:
                _, _, effect = self.tasks.pop(0)
                effect()
            if self.tasks:
                at, name, _ = self.tasks[0]
                task = "%s in %.1f s" % (name, at - now) if at > now else name
            else:
                task = "No task"
            if self.frames:
                x0, y0, z0 = self.frames[0]
                start = [round(x0, 2), round(y0, 2), round(z0, 2), float("nan"), "fly", 1.0]
                info = [self.anim_id, "OK"]
            else:
                start = [float("nan")] * 4 + ["error: can't get start pos in animation", float("nan")]
                info = [None, "File animation.csv can't be opened"]
            position = [round(self.x, 2), round(self.y, 2), round(self.z, 2), 91.5, "map"]
            if self.opts.broken == "position":
                position = position[:4]
            record = {"fcu_status": "STANDBY" if not self.armed else "ACTIVE", "current_position": position,
                      "selfcheck": "OK", "battery": [11.7, 0.73], "git_version": self.opts.git_version,
                      "animation_info": info, "calibration_status": "OK", "start_position": start,
                      "mode": self.mode, "time_delta": time.time(), "armed": self.armed,
                      "config_version": "client V%s" % self.version, "last_task": task}
            if self.opts.broken == "telemetry-shape":
                record["selfcheck"] = ["OK"]
                record["battery"] = [11.7]
            return record

    def config(self, with_spec):
        def opt(v):
            return {"__value__": v}
        config = {"config_name": opt("client"), "config_version": opt(self.version), "id": opt(self.id),
                  "clover_dir": opt("/home/pi/catkin_ws/src/clover/clover")}
        for section in ("SERVER", "BROADCAST", "TELEMETRY", "FLIGHT", "FLOOR FRAME", "GPS FRAME", "ANIMATION",
                        "LED", "FAILSAFE", "EMERGENCY LAND", "SYSTEM", "NTP"):
            config[section] = {"use": opt(True)}
        config["SERVER"] = {"port": opt(25000), "host": opt("127.0.0.1")}
        config["initial_comment"] = []
        config["final_comment"] = []
        if self.opts.broken == "config":
            return config
        reply = {"config": config}
        if with_spec:
            reply["configspec"] = {"config_version": "float(default=1.0)",
                                   "SERVER": {"port": "integer(default=25000, min=1)",
                                              "host": "ip(default=192.168.1.101) # string?"}}
        return reply

    def send(self, frame):
        with self.lock:
            try:
                if self.sock is not None:
                    self.sock.sendall(frame)
            except OSError:
                pass

    def on_frame(self, header, content):
        kind = header["message-type"]
        if kind == "request":
            name, rid = content["requested_value"], content["request_id"]
            kwargs = content.get("kwargs") or {}
            if name in ("calibrate_gyro", "calibrate_level"):
                time.sleep(0.5)
            value = {"id": lambda: self.id, "clover_dir": lambda: "/home/pi/catkin_ws/src/clover/clover",
                     "calibrate_gyro": lambda: "OK", "calibrate_level": lambda: "OK",
                     "load_params": lambda: self.opts.broken != "load-params",
                     "telemetry": self.record,
                     "config": lambda: self.config(kwargs.get("send_configspec", False))}.get(name)
            if value is not None:
                self.send(MM.create_response(name, rid, value()))
        elif kind == "message" and header.get("action") == "filetransfer":
            if header["filepath"] != "animation.csv":
                return
            lines = content.decode().splitlines()
            with self.lock:
                self.anim_id = lines[0]
                self.frames = [tuple(float(v) for v in line.split(",")[1:4]) for line in lines[1:]]
        elif kind == "message":
            kwargs = (content or {}).get("kwargs") or {}
            action = header["action"]
            with self.lock:
                if action == "id" and kwargs.get("new_id") != self.id and self.opts.broken != "rename":
                    # The config is written and the service restarts under the new name.
                    self.id = kwargs["new_id"].lower()
                    self.sock.shutdown(socket.SHUT_RDWR)
                elif action == "config":
                    self.version = kwargs["config"]["config_version"]["__value__"]
                elif action == "start":
                    self.schedule(float(kwargs["time"]))
                elif action == "land":
                    self.tasks = []
                    self.mode = "AUTO.LAND"
                    now = time.time()
                    self.tasks = [(now, "land", lambda: None),
                                  (now + 1.5, "land", self.touch_down)]

    def schedule(self, t):
        def frame(p, arm=False):
            def effect():
                if arm:
                    self.armed, self.mode = True, "OFFBOARD"
                self.x, self.y, self.z = p
            return effect
        at = t
        for i, p in enumerate(self.frames):
            self.tasks.append((at, "execute_frame", frame(p, arm=(i == 10))))
            at += 0.1
        self.tasks.append((at, "turn_off_led", lambda: None))

    def touch_down(self):
        self.z = 0.0
        self.armed = False
        self.mode = "POSCTL"

    def run(self):
        threading.Thread(target=self.push_loop, daemon=True).start()
        while True:
            try:
                self.serve()
            except OSError:
                pass
            time.sleep(0.5)  # the service restarts, then dials again

    def serve(self):
        sock = socket.socket()
        sock.bind((self.source, 0))
        sock.connect((self.opts.host, self.opts.port))
        with self.lock:
            self.sock = sock
        incoming = MM()
        buffer = bytearray()
        while True:
            data = sock.recv(65536)
            if not data:
                return
            buffer += data
            while buffer:
                incoming.income_raw += buffer
                buffer = bytearray()
                incoming.process_message()
                if not incoming.complete:
                    break
                buffer = incoming.income_raw
                incoming.income_raw = bytearray()
                self.on_frame(incoming.jsonheader, incoming.content)
                incoming = MM()

    def push_loop(self):
        while self.opts.broken != "no-push":
            time.sleep(1.0)
            self.send(MM.create_action_message("telemetry", [], {"value": self.record()}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--source", default="127.0.3.1")
    parser.add_argument("--git-version", default="2062940")
    parser.add_argument("--break", dest="broken", default=None)
    opts = parser.parse_args()
    for n in range(1, opts.count + 1):
        threading.Thread(target=Drone(opts, n).run, daemon=True).start()
    try:
        sys.stdin.read()  # runs until its input ends or it is killed
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
