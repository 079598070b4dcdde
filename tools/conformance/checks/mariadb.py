"""A throw-away MariaDB server (Debian's mariadb-server) on 127.0.0.1 and a free port, one per run, stopped at
exit: the server MySQL migrations and the tests of services on MySQL run against. MariaDB ≥ 10.6 and MySQL 8
accept the SQL the generator writes for `engine: mysql` (ADR 0007).

mariadbd refuses to run as root unless told to, so as root it runs as the `mysql` user, like PostgreSQL.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time

from . import procs
from .background import StartsInBackground
from .postgres import free_port


class MariaDBError(Exception):
    pass


def server_binary() -> str | None:
    for name in ("mariadbd", "mysqld"):
        found = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
        if found:
            return found
    return None


class MariaDBServer(StartsInBackground):
    start_error = MariaDBError

    def __init__(self, work: str):
        self.work = os.path.join(work, "mariadb")
        self.data = os.path.join(self.work, "data")
        self.bin = server_binary()
        self.port = 0
        self.version = ""
        self.init_background()
        self.proc: subprocess.Popen | None = None
        self._user = "mysql" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if not self.bin:
            raise MariaDBError("MariaDB server not found (install.sh installs mariadb-server)")
        os.makedirs(self.data, exist_ok=True)
        if os.geteuid() == 0:
            account = pwd.getpwnam(self._user)
            for path in (self.work, self.data):
                os.chown(path, account.pw_uid, account.pw_gid)
        status, out, _ = procs.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.data}",
                f"--user={self._user}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            None,
            None,
            300,
            True,
        )
        if status != 0:
            raise MariaDBError(f"mariadb-install-db failed: {out.strip()[-400:]}")
        for _ in range(3):
            self.port = free_port()
            if self._launch():
                self.running = True
                with self.connect("") as conn, conn.cursor() as cur:
                    cur.execute("SELECT VERSION()")
                    self.version = cur.fetchone()[0].split("-")[0]
                return
        raise MariaDBError(f"mariadbd did not start: {self._log_tail()}")

    def _launch(self) -> bool:
        self.proc = subprocess.Popen(
            [
                self.bin,
                "--no-defaults",
                f"--datadir={self.data}",
                f"--user={self._user}",
                "--bind-address=127.0.0.1",
                f"--port={self.port}",
                f"--socket={os.path.join(self.work, 'sock')}",
                f"--pid-file={os.path.join(self.work, 'pid')}",
                f"--log-error={self._log()}",
                "--skip-log-bin",
                "--skip-name-resolve",
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-buffer-pool-size=64M",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with self.connect(""):
                    return True
            except Exception:  # noqa: BLE001 - not accepting connections yet
                time.sleep(0.2)
        self.stop()
        return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.running = False

    def _log(self) -> str:
        return os.path.join(self.work, "server.log")

    def _log_tail(self) -> str:
        try:
            with open(self._log(), encoding="utf-8", errors="replace") as fh:
                return " ".join(fh.read().splitlines()[-3:])
        except OSError:
            return "no server log"

    # ------------------------------------------------------------------ use
    def connect(self, db: str, multi: bool = False):
        import pymysql
        from pymysql.constants import CLIENT

        return pymysql.connect(
            host="127.0.0.1",
            port=self.port,
            user="root",
            database=db or None,
            autocommit=True,
            connect_timeout=10,
            client_flag=CLIENT.MULTI_STATEMENTS if multi else 0,
        )

    def create_database(self, db: str) -> None:
        import pymysql

        try:
            with self.connect("") as conn, conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE `{db}`")
        except pymysql.Error as e:
            raise MariaDBError(f"cannot create database {db}: {e}") from e

    def url(self, db: str) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/{db}"


def apply_script(conn, text: str) -> str | None:
    """Runs a script as dbmate runs it on MySQL (one multi-statement query); None when every statement
    applied, else the server's error. MySQL commits each DDL statement: a failed script stays half-applied."""
    import pymysql

    try:
        with conn.cursor() as cur:
            cur.execute(text)
            while cur.nextset():
                pass
    except pymysql.Error as e:
        return f"{e.args[0]}: {e.args[1] if len(e.args) > 1 else e}"
    return None


LEFTOVERS = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
