"""Processes the system test starts: each in its own process group, stopped by PID, always.

Every start is recorded; `stop_all` runs on normal exit, on an exception, on SIGINT/SIGTERM, so no
server outlives the test even when a check fails half-way.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

_GIVEN: set[int] = set()


def free_port() -> int:
    """A port nobody listens on right now (bind to 0 on loopback and let the kernel choose), and
    never one this run handed out before: the socket is closed on return, so the kernel may offer
    the same port again while the first taker has not bound it yet."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log: Path
    popen: subprocess.Popen | None = None
    user: str | None = None
    # PostgreSQL's SIGTERM waits for every client to leave; SIGINT is its fast, clean shutdown.
    stop_signal: int = signal.SIGTERM

    @property
    def pid(self) -> int:
        return self.popen.pid if self.popen else -1

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])


@dataclass
class Supervisor:
    """Starts processes and stops every one of them by PID (process group) on exit."""

    procs: list[Proc] = field(default_factory=list)

    def __post_init__(self) -> None:
        atexit.register(self.stop_all)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.stop_all()
        raise SystemExit(128 + signum)

    def start(self, proc: Proc) -> Proc:
        proc.log.parent.mkdir(parents=True, exist_ok=True)
        out = open(proc.log, "ab")
        argv = proc.argv
        if proc.user:
            argv = ["runuser", "-u", proc.user, "--", *argv]
        proc.popen = subprocess.Popen(
            argv,
            cwd=proc.cwd,
            env=proc.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        out.close()
        if proc not in self.procs:
            self.procs.append(proc)
        return proc

    def stop(self, proc: Proc, timeout: float = 10.0) -> None:
        """SIGTERM to the process group, SIGKILL after `timeout`."""
        if proc.popen is None or proc.popen.poll() is not None:
            return
        pgid = proc.popen.pid
        with _ignore(ProcessLookupError):
            os.killpg(pgid, proc.stop_signal)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.popen.poll() is None:
            time.sleep(0.05)
        if proc.popen.poll() is None:
            with _ignore(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            proc.popen.wait(5)
        # Children that left the group (daemonised) are not ours to hunt by name; every server we
        # start runs in the foreground, so the group is all of it.
        with _ignore(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)

    def restart(self, proc: Proc) -> Proc:
        self.stop(proc)
        return self.start(proc)

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            self.stop(proc, timeout=5.0)


class _ignore:
    def __init__(self, *kinds: type[BaseException]) -> None:
        self.kinds = kinds

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, *_: object) -> bool:
        return kind is not None and issubclass(kind, self.kinds)  # type: ignore[arg-type]


def wait_for(predicate, timeout: float, interval: float = 0.2, stop_on: type[BaseException] | None = None) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass (`stop_on` ends the wait early)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return True
        except Exception as exc:  # noqa: BLE001 - a probe that raises is simply not ready yet
            if stop_on is not None and isinstance(exc, stop_on):
                raise
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
