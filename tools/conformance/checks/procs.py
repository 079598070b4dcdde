"""Child processes, tracked so that an interrupted run can end every one of them (and their children)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading

_LOCK = threading.Lock()
_RUNNING: set = set()
_CLOSED = threading.Event()  # set by kill_all: the run is ending, start nothing new


def run(cmd: list, cwd: str | None, env: dict | None, timeout: int, merge: bool) -> tuple:
    """(exit status, stdout, stderr); 124 on timeout, 127 when the command cannot start."""
    with _LOCK:
        if _CLOSED.is_set():
            return 130, "interrupted", ""
        try:
            proc = subprocess.Popen(
                cmd,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT if merge else subprocess.PIPE,
                text=True,
                errors="replace",
                start_new_session=True,
            )
        except OSError as e:
            return 127, f"cannot run {cmd[0]}: {e.strerror}", ""
        _RUNNING.add(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(proc)
        out, err = proc.communicate()
        # What it printed before the kill (e.g. a faulthandler stack dump) follows the reason.
        said = f"timed out after {timeout}s: {' '.join(map(str, cmd[:3]))}"
        return 124, said + "\n" + (out or ""), err or ""
    finally:
        with _LOCK:
            _RUNNING.discard(proc)
    return proc.returncode, out, err or ""


def kill(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def kill_all() -> None:
    with _LOCK:
        _CLOSED.set()
        running = list(_RUNNING)
    for proc in running:
        kill(proc)


@contextlib.contextmanager
def background(cmd: list, env: dict | None = None):
    """A server running while the block runs (tracked like `run`'s children, so an interrupted run
    ends it too); ended when the block ends. Yields the process, or None when it cannot start."""
    with _LOCK:
        proc = None
        if not _CLOSED.is_set():
            with contextlib.suppress(OSError):
                proc = subprocess.Popen(
                    cmd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
        if proc is not None:
            _RUNNING.add(proc)
    try:
        yield proc
    finally:
        if proc is not None:
            kill(proc)
            proc.wait()
            with _LOCK:
                _RUNNING.discard(proc)
