"""Slow tools started once for all trees at the beginning of a run, read when their turn comes."""

from __future__ import annotations

import os
import subprocess
import threading


class BackgroundJob:
    def __init__(self, name: str, cmd: list, work: str, cwd: str | None = None, env: dict | None = None):
        self.name = name
        self.cmd = cmd
        self.out_path = os.path.join(work, f"{name}.out")
        self.err_path = os.path.join(work, f"{name}.err")
        self.error = None
        try:
            with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
                self.proc = subprocess.Popen(
                    cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True
                )
        except OSError as e:
            self.proc = None
            self.error = f"cannot run {cmd[0]}: {e.strerror}"
        self._result = None

    def result(self, timeout: int = 900) -> tuple:
        """(exit status, stdout, stderr); waits for the job the first time."""
        if self._result is None:
            self._result = self._collect(timeout)
        return self._result

    def _collect(self, timeout: int) -> tuple:
        if self.proc is None:
            return 127, "", self.error
        try:
            status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            return 124, "", f"{self.name} timed out after {timeout}s"
        return status, read(self.out_path), read(self.err_path)

    def stop(self) -> None:
        stop_group(self.proc)


def stop_group(proc) -> None:
    """Terminate a job started in its own process group (SIGTERM to the group, then kill)."""
    if proc is not None and proc.poll() is None:
        try:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()


def read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.read()


class StartsInBackground:
    """A database server started on a thread of its own while the run goes on. The class sets
    `start_error` (what its `start()` raises), its `__init__` calls `init_background()`."""

    start_error: type[Exception] = Exception

    def init_background(self) -> None:
        self.error: str | None = None
        self.running = False
        self._started = threading.Event()

    def start(self) -> None:
        raise NotImplementedError

    def start_in_background(self) -> None:
        threading.Thread(target=self._start_quietly, daemon=True).start()

    def ready(self) -> bool:
        """Waits for the start to end; True when the server is up (else see .error). Thread-safe."""
        self._started.wait()
        return self.running

    def _start_quietly(self) -> None:
        try:
            self.start()
        except self.start_error as e:
            self.error = str(e)
        finally:
            self._started.set()
