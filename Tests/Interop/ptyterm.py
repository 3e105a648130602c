"""A program run on a pseudo-terminal, for the tests that type at `clever-msg serve` as a person would."""
import os
import pty
import select
import subprocess
import time


class Terminal:
    """Starts `argv` with a pseudo-terminal as its standard input and output, and collects what it prints."""

    def __init__(self, argv):
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=subprocess.DEVNULL, close_fds=True)
        os.close(slave)
        self.output = b""

    def type(self, keys):
        """Types `keys` (bytes)."""
        os.write(self.master, keys)

    def read_until(self, predicate, timeout=20.0):
        """Reads what the program prints until `predicate(output)` holds or `timeout` seconds pass; returns whether it held."""
        end = time.time() + timeout
        while not predicate(self.output) and time.time() < end:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                self.output += chunk
        return predicate(self.output)
