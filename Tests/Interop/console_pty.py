"""Types at `clever-msg serve` through a pseudo-terminal, as a person would.

Usage: python3 console_pty.py PATH/TO/clever-msg
Prints one JSON object: {"exit": code, "lines": [the JSON lines serve printed], "raw": ...}.
Keys typed: arrows to move and insert, Up for history, Ctrl-U, Backspace, Delete, Ctrl-A/E, Ctrl-W.
"""
import json
import subprocess
import sys

from ptyterm import Terminal

binary = sys.argv[1]
terminal = Terminal([binary, "serve", "--port", "0", "--json"])
process = terminal.process


def read_until(predicate, timeout=20.0):
    return terminal.read_until(predicate, timeout)


def results():
    found = []
    for line in terminal.output.replace(b"\r", b"\n").split(b"\n"):
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
    terminal.type(keys)
    read_until(lambda _: count("drones") >= number, timeout=10)
terminal.type(b"quiet\x7f\x7ft\r")                  # "quit" after two Backspaces
try:
    code = process.wait(timeout=20)
except subprocess.TimeoutExpired:
    process.kill()
    code = None
read_until(lambda _: False, timeout=0.5)
print(json.dumps({"exit": code, "lines": results(), "raw": terminal.output.decode(errors="replace")}))
