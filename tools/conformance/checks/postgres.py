"""A throw-away PostgreSQL server on 127.0.0.1 and a free port, one per run, stopped at exit.

initdb refuses to run as root, so as root the server runs as the `postgres` user (runuser).
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import threading

from . import procs


class PostgresError(Exception):
    pass


def server_bin_dir() -> str | None:
    wanted = os.environ.get("CONFORMANCE_PG_BIN")
    if wanted:
        return wanted if os.path.exists(os.path.join(wanted, "initdb")) else None
    dirs = [os.path.dirname(p) for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    dirs.sort(key=lambda d: [int(x) for x in re.findall(r"\d+", d)])
    return dirs[-1] if dirs else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self, work: str):
        self.work = os.path.join(work, "pg")
        self.data = os.path.join(self.work, "data")
        self.bin = server_bin_dir()
        self.port = 0
        self.version = ""
        self.error: str | None = None
        self.running = False
        self._started = threading.Event()
        self.cancelled = False
        self._as_pg: list = []

    # ------------------------------------------------------------------ lifecycle
    def start_in_background(self) -> None:
        threading.Thread(target=self._start_quietly, daemon=True).start()

    def ready(self) -> bool:
        """Waits for the start to end; True when the server is up (else see .error). Thread-safe."""
        self._started.wait()
        return self.running

    def _start_quietly(self) -> None:
        try:
            self.start()
        except PostgresError as e:
            self.error = str(e)
        finally:
            self._started.set()

    def start(self) -> None:
        if not self.bin:
            raise PostgresError("PostgreSQL server binaries not found (install.sh installs them)")
        self._prepare_dirs()
        self._run([os.path.join(self.bin, "initdb"), "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                   "--locale=C.UTF-8", "--no-sync"], "initdb")
        for _ in range(3):
            if self.cancelled:
                raise PostgresError("cancelled")
            self.port = free_port()
            if self._pg_ctl_start():
                break
        else:
            raise PostgresError(f"pg_ctl start failed: {self._log_tail()}")
        self.running = True
        words = self._run([os.path.join(self.bin, "postgres"), "--version"], "postgres --version").split()
        self.version = words[2] if len(words) > 2 else "?"

    def _prepare_dirs(self) -> None:
        os.makedirs(self.work, exist_ok=True)
        os.makedirs(self.data, exist_ok=True)
        if os.geteuid() == 0:
            try:
                pg = pwd.getpwnam("postgres")
            except KeyError as e:
                raise PostgresError("running as root and there is no postgres user to run the server") from e
            for path in (self.work, self.data):
                os.chown(path, pg.pw_uid, pg.pw_gid)
            self._as_pg = ["runuser", "-u", "postgres", "--"]

    def _pg_ctl_start(self) -> bool:
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.work} -c fsync=off "
                   "-c full_page_writes=off -c synchronous_commit=off")
        cmd = [os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l", self._log(), "-w", "-t", "60", "-o", options,
               "start"]
        return procs.run(self._as_pg + cmd, None, None, 120, True)[0] == 0

    def stop(self) -> None:
        self.cancelled = True
        procs.kill_all()  # an initdb still running
        self._started.wait(timeout=120)
        if self.running:
            subprocess.run(self._as_pg + [os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w",
                                          "stop"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            self.running = False

    def _run(self, cmd: list, what: str) -> str:
        status, out, err = procs.run(self._as_pg + cmd, None, None, 300, False)
        if status != 0:
            raise PostgresError(f"{what} failed: {(err or out).strip()[-400:]}")
        return out

    def _log(self) -> str:
        return os.path.join(self.work, "server.log")

    def _log_tail(self) -> str:
        try:
            with open(self._log(), encoding="utf-8", errors="replace") as fh:
                return " ".join(fh.read().splitlines()[-3:])
        except OSError:
            return "no server log"

    # ------------------------------------------------------------------ use
    def psql(self, db: str, *args: str) -> tuple:
        psql = os.path.join(self.bin, "psql")
        psql = psql if os.path.exists(psql) else shutil.which("psql") or "psql"
        cmd = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
               "-d", db, *args]
        status, out, _ = procs.run(cmd, None, {**os.environ, "PGCONNECT_TIMEOUT": "10"}, 300, True)
        return status, out.strip()

    def apply_file(self, db: str, path: str) -> tuple:
        return self.psql(db, "--single-transaction", "-f", path)

    def query(self, db: str, sql: str) -> tuple:
        return self.psql(db, "-tA", "-c", sql)

    def create_database(self, db: str) -> None:
        status, out = self.query("postgres", f'CREATE DATABASE "{db}"')
        if status != 0:
            raise PostgresError(f"cannot create database {db}: {out}")

    def url(self, db: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"
