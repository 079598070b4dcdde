"""A throw-away PostgreSQL server on 127.0.0.1 and a free port, one per run, stopped at exit.

initdb refuses to run as root, so as root the server runs as the `postgres` user (runuser).
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import socket
import subprocess

from . import procs
from .background import StartsInBackground


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


class PostgresServer(StartsInBackground):
    start_error = PostgresError

    def __init__(self, work: str):
        self.work = os.path.join(work, "pg")
        self.data = os.path.join(self.work, "data")
        self.bin = server_bin_dir()
        self.port = 0
        self.version = ""
        self.init_background()
        self.cancelled = False
        self._as_pg: list = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if not self.bin:
            raise PostgresError("PostgreSQL server binaries not found (install.sh installs them)")
        self._prepare_dirs()
        self._run(
            [
                os.path.join(self.bin, "initdb"),
                "-D",
                self.data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            "initdb",
        )
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
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.work} -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off"
        )
        cmd = [
            os.path.join(self.bin, "pg_ctl"),
            "-D",
            self.data,
            "-l",
            self._log(),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        ]
        return procs.run(self._as_pg + cmd, None, None, 120, True)[0] == 0

    def stop(self) -> None:
        self.cancelled = True
        procs.kill_all()  # an initdb still running
        self._started.wait(timeout=120)
        if self.running:
            subprocess.run(
                self._as_pg + [os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w", "stop"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
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
    def connect(self, db: str, autocommit: bool = False):
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=db, autocommit=autocommit, connect_timeout=10
        )

    def create_database(self, db: str, template: str = "") -> None:
        import psycopg

        copy = f' TEMPLATE "{template}"' if template else ""
        try:
            with self.connect("postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{db}"{copy}')
        except psycopg.Error as e:
            raise PostgresError(f"cannot create database {db}: {e}") from e

    def url(self, db: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"


def statements(text: str) -> list:
    """(first line, statement) of a SQL script, split by PostgreSQL's own scanner; the whole script as one
    piece when it does not parse (the server then reports the error)."""
    import pglast

    try:
        return [(text.count("\n", 0, s.start) + 1, text[s]) for s in pglast.split(text, only_slices=True)]
    except Exception:  # noqa: BLE001 - a syntax error: pglast reports it, the server shall too
        return [(1, text)]


def apply_script(conn, text: str) -> str | None:
    """Runs a script in one transaction on an open connection; None when it applied, else the error with the
    line of the failing statement."""
    import psycopg

    line, stmt = 1, text
    try:
        with conn.transaction():
            for line, stmt in statements(text):  # noqa: B007 - line and stmt name the failing statement
                conn.execute(stmt)
    except psycopg.Error as e:
        diag = e.diag
        where = line
        if diag.statement_position:
            where += stmt.count("\n", 0, int(diag.statement_position) - 1)
        detail = f" ({diag.message_detail})" if diag.message_detail else ""
        return f"line {where}: {diag.severity or 'ERROR'}: {diag.message_primary or e}{detail}"
    return None
