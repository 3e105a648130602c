"""Types at `clever-msg serve` through a pseudo-terminal, as a person would.

Usage: python3 console_pty.py PATH/TO/clever-msg
Prints one JSON object: {"exit": code, "lines": [the JSON lines serve printed], "raw": ...}.
Keys typed: arrows to move and insert, Up for history, Ctrl-U, Backspace, Delete, Ctrl-A/E, Ctrl-W.
"""
import json
import os
import pty
import select
import subprocess
import sys
import time

binary = sys.argv[1]
master, slave = pty.openpty()
process = subprocess.Popen(
    [binary, "serve", "--port", "0", "--json"],
    stdin=slave, stdout=slave, stderr=subprocess.DEVNULL, close_fds=True,
)
os.close(slave)
output = b""


def read_until(predicate, timeout=20.0):
    global output
    end = time.time() + timeout
    while not predicate(output) and time.time() < end:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
    return predicate(output)


def results():
    found = []
    for line in output.replace(b"\r", b"\n").split(b"\n"):
        start = line.find(b"{")
        if start < 0:
            continue
        try:
            found.append(json.loads(line[start:].decode()))
        except ValueError:
            pass
    return found


def count(key):
    return sum(1 for r in results() if key in r)


read_until(lambda _: count("listening") >= 1)
steps = [
    b"drnes\x1b[D\x1b[D\x1b[Do\r",        # insert with the left arrow: "drones"
    b"\x1b[A\r",                           # Up: the history gives "drones" again
    b"junk\x15drones\r",                   # Ctrl-U clears the typed junk
    b"xdrones\x01\x1b[3~\x05\r",           # Ctrl-A, Delete removes the x, Ctrl-E
    b"junk drones\x1b[D\x17\x05\x7f\x7f\x7f\x7f\x7f\x7fdrones\r",  # Ctrl-W and Backspace
]
for number, keys in enumerate(steps, start=1):
    os.write(master, keys)
    read_until(lambda _: count("drones") >= number, timeout=10)
os.write(master, b"quiet\x7f\x7ft\r")                  # "quit" after two Backspaces
try:
    code = process.wait(timeout=20)
except subprocess.TimeoutExpired:
    process.kill()
    code = None
read_until(lambda _: False, timeout=0.5)
print(json.dumps({"exit": code, "lines": results(), "raw": output.decode(errors="replace")}))
