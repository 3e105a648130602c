"""Drives `clever-msg serve`'s `watch` through a pseudo-terminal, as a person would.

Usage: python3 watch_pty.py PATH/TO/clever-msg
Starts the console on a terminal and one drone, types `watch`, waits for the
table and a redraw, stops the drone (its disconnect line must wait until the
view is left), presses a key, then types quit. Prints one JSON object:
{"exit": code, "entered": bool, "row": bool, "redraws": n, "left": bool,
 "held": bool, "raw": text}.
"""
import json
import re
import subprocess
import sys

from ptyterm import Terminal

binary = sys.argv[1]
terminal = Terminal([binary, "serve", "--port", "0"])
process = terminal.process
read_until = terminal.read_until


ENTER, LEAVE = b"\x1b[?1049h", b"\x1b[?1049l"
TITLE = b"(any key returns)"
report = {"exit": None, "entered": False, "row": False, "redraws": 0, "left": False, "held": False}
drone = None
try:
    read_until(lambda o: re.search(rb"listening on 127\.0\.0\.1:(\d+)", o) is not None)
    port = re.search(rb"listening on 127\.0\.0\.1:(\d+)", terminal.output).group(1).decode()
    drone = subprocess.Popen(
        [binary, "drone", "--server", "127.0.0.1:" + port, "--id", "copter-7", "--telemetry-hz", "5"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    read_until(lambda o: b"copter-7 connected" in o)
    terminal.type(b"watch\r")
    report["entered"] = read_until(lambda o: ENTER in o)
    # id, link, links, rtt, offset, telemetry age (the drone pushes 5 records a second).
    row = rb"copter-7 +up +1 +[0-9.]+ ms +\S+( ms)? +[0-9.]+ s "
    report["row"] = read_until(lambda o: re.search(row, o.split(ENTER, 1)[-1]) is not None)
    read_until(lambda o: o.split(ENTER, 1)[-1].count(TITLE) >= 2, timeout=5)
    # The drone leaves while the view is up: its line waits until the view is left.
    drone.terminate()
    drone.wait(timeout=10)
    read_until(lambda o: o.split(ENTER, 1)[-1].count(TITLE) >= 4, timeout=5)
    watched = terminal.output.split(ENTER, 1)[-1]
    report["redraws"] = watched.count(TITLE)
    early = b"copter-7 disconnected" in watched
    terminal.type(b"k")
    report["left"] = read_until(lambda o: LEAVE in o, timeout=10)
    report["held"] = not early and read_until(lambda o: b"copter-7 disconnected" in o.split(LEAVE, 1)[-1], timeout=10)
    terminal.type(b"quit\r")
    report["exit"] = process.wait(timeout=20)
except Exception as error:  # noqa: BLE001 - the report says what failed
    report["failure"] = repr(error)
finally:
    if process.poll() is None:
        process.kill()
    if drone is not None and drone.poll() is None:
        drone.kill()
report["raw"] = terminal.output.decode(errors="replace")
print(json.dumps(report))
