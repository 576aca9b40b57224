"""A program on a pseudo-terminal, for tests of what a terminal user sees: its output is read
as it comes (``expect``), keys are typed into it (``send``), Ctrl-C included."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence


class PtySession:
    """``argv`` running with a pseudo-terminal as its stdin, stdout and stderr."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], cwd: str | None = None,
                 columns: int = 100) -> None:
        master, slave = os.openpty()
        os.set_blocking(master, False)
        full_env = {**env, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": "40"}
        self.process = subprocess.Popen(list(argv), stdin=slave, stdout=slave, stderr=slave,
                                        env=full_env, cwd=cwd, start_new_session=True)
        os.close(slave)
        self._master = master
        self.output = ""

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self._master, 65536)
        except OSError:  # the program has exited (EIO)
            return False
        self.output += data.decode("utf-8", "replace")
        return bool(data)

    def expect(self, pattern: str, timeout: float = 30.0, since: int = 0) -> re.Match[str]:
        """Read until the output (from offset ``since``) matches ``pattern``; fail after
        ``timeout`` seconds with what was read."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.compile(pattern).search(self.output, since)
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0 or (self.process.poll() is not None and not self._read(0.05)):
                raise AssertionError(f"no {pattern!r} in the output:\n{self.output[-3000:]}")
            self._read(min(left, 0.2))

    def send(self, text: str) -> None:
        """Type ``text``."""
        os.write(self._master, text.encode())

    def interrupt(self) -> None:
        """Ctrl-C, as the terminal sends it: SIGINT to the foreground process group."""
        os.killpg(self.process.pid, signal.SIGINT)

    def finish(self, timeout: float = 30.0) -> int:
        """Wait for the program to exit, reading what is left; its exit code."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self._read(0.1)
        while self._read(0.05):
            pass
        if self.process.poll() is None:
            self.process.kill()
            raise AssertionError(f"still running after {timeout} s:\n{self.output[-3000:]}")
        os.close(self._master)
        return self.process.returncode


def plain(text: str) -> str:
    """``text`` without terminal escape sequences and carriage returns."""
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]", "", text)
    return text.replace("\r", "")
