"""Backing services as local processes on loopback: PostgreSQL, MariaDB (for `engine: mysql`), Redis,
RabbitMQ and nginx.

Each runs in the foreground under the Supervisor, with its data, sockets and logs in the run folder,
on a port chosen by binding to 0. PostgreSQL runs as the `postgres` user (initdb refuses root).
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import signal
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from procs import Proc, Supervisor, free_port, port_open, wait_for

PG_BIN = next(
    (p for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)),
    Path("/usr/lib/postgresql/15/bin"),
)


def base_env() -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR")
    return {k: os.environ[k] for k in keep if k in os.environ}


@dataclass
class Postgres:
    proc: Proc
    port: int
    socket_dir: Path
    kind = "postgres"
    # With TLS: the throwaway CA that signed the server's certificate (for sslmode=verify-full).
    ca_file: Path | None = None

    def psql(self, sql: str, db: str = "postgres") -> str:
        out = subprocess.run(
            [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", db, "-v", "ON_ERROR_STOP=1", "-tA", "-c", sql],
            capture_output=True, text=True, check=True, timeout=30,
        )
        return out.stdout.strip()

    def create_database(self, name: str, user: str, password: str) -> None:
        lit = password.replace("'", "''")
        self.psql(f'CREATE ROLE "{user}" LOGIN PASSWORD \'{lit}\'')
        self.psql(f'CREATE DATABASE "{name}" OWNER "{user}"')

    def ready(self) -> bool:
        return subprocess.run(
            [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
            capture_output=True,
        ).returncode == 0


def make_certificate(home: Path) -> None:
    """ca.crt (a one-day CA) and tls.crt/tls.key (the server's, for 127.0.0.1 and localhost) in
    `home`, made as the postgres user, who must own the key."""
    (home / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    steps = [
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=system-test CA", "-days", "1",
         "-keyout", "ca.key", "-out", "ca.crt"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "tls.key", "-out", "tls.csr"],
        ["x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1",
         "-extfile", "san.ext", "-out", "tls.crt"],
    ]
    for step in steps:
        subprocess.run(["runuser", "-u", "postgres", "--", "openssl", *step], cwd=home, check=True,
                       capture_output=True)


def start_postgres(sup: Supervisor, run: Path, tls: bool = False) -> Postgres:
    """PostgreSQL on loopback; with `tls`, also TLS with a certificate for 127.0.0.1 and localhost
    signed by a throwaway CA, so clients that check it (the serverless functions connect with
    sslmode=verify-full) can, given that CA."""
    home = run / "pg"
    home.mkdir(parents=True)
    # The postgres user must traverse every parent of its folder.
    for parent in [home, *home.parents]:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o711)
    uid = pwd.getpwnam("postgres").pw_uid
    os.chown(home, uid, -1)
    data, sock = home / "data", home / "sock"
    subprocess.run(
        ["runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust",
         "-U", "postgres", "--no-sync"],
        check=True, capture_output=True,
    )
    subprocess.run(["runuser", "-u", "postgres", "--", "mkdir", str(sock)], check=True)
    ssl: list[str] = []
    if tls:
        make_certificate(home)
        ssl = ["-c", "ssl=on", "-c", f"ssl_cert_file={home / 'tls.crt'}", "-c", f"ssl_key_file={home / 'tls.key'}"]
    port = free_port()
    proc = Proc(
        "postgres",
        [str(PG_BIN / "postgres"), "-D", str(data), "-p", str(port), "-k", str(sock),
         "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off",
         "-c", "synchronous_commit=off", "-c", "max_connections=300", *ssl],
        base_env(), home, run / "logs" / "postgres.log", user="postgres",
        stop_signal=signal.SIGINT,
    )
    sup.start(proc)
    pg = Postgres(proc, port, sock, home / "ca.crt" if tls else None)
    if not wait_for(pg.ready, 30):
        raise RuntimeError(f"postgres did not start:\n{proc.log_tail()}")
    return pg


@dataclass
class MariaDB:
    """MariaDB from Debian standing in for compose's `mysql:8` (ADR 0007). The harness's own queries
    run with ANSI_QUOTES, so a check's `"table"` is a name on either server."""

    proc: Proc
    port: int
    socket: Path
    kind = "mysql"

    def psql(self, sql: str, db: str = "") -> str:
        ansi = "SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES'); "
        out = subprocess.run(
            ["mariadb", "--protocol=socket", "-S", str(self.socket), "-u", "root", "-N", "-B",
             *([db] if db else []), "-e", ansi + sql],
            capture_output=True, text=True, check=True, timeout=30,
        )
        return out.stdout.strip()

    def create_database(self, name: str, user: str, password: str) -> None:
        lit = password.replace("'", "''")
        self.psql(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{lit}'")
        self.psql(f'CREATE DATABASE "{name}"')
        self.psql(f"GRANT ALL ON \"{name}\".* TO '{user}'@'%'")

    def ready(self) -> bool:
        return subprocess.run(
            ["mariadb-admin", "--protocol=socket", "-S", str(self.socket), "-u", "root", "ping"],
            capture_output=True,
        ).returncode == 0


def start_mariadb(sup: Supervisor, run: Path) -> MariaDB:
    """MariaDB on loopback, as the `mysql` user (mariadbd refuses root), fast and throwaway."""
    home = run / "mariadb"
    home.mkdir(parents=True)
    for parent in [home, *home.parents]:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o711)
    account = pwd.getpwnam("mysql")
    os.chown(home, account.pw_uid, account.pw_gid)
    data, sock = home / "data", home / "sock"
    subprocess.run(
        ["mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=mysql",
         "--auth-root-authentication-method=normal", "--skip-test-db"],
        check=True, capture_output=True,
    )
    port = free_port()
    proc = Proc(
        "mariadb",
        [shutil.which("mariadbd") or "/usr/sbin/mariadbd", "--no-defaults", f"--datadir={data}", "--user=mysql",
         "--bind-address=127.0.0.1", f"--port={port}", f"--socket={sock}", f"--pid-file={home / 'pid'}",
         "--skip-log-bin", "--skip-name-resolve", "--innodb-flush-log-at-trx-commit=0",
         "--innodb-buffer-pool-size=64M", "--max-connections=300"],
        base_env(), home, run / "logs" / "mariadb.log",
    )
    sup.start(proc)
    db = MariaDB(proc, port, sock)
    if not wait_for(db.ready, 60):
        raise RuntimeError(f"mariadb did not start:\n{proc.log_tail()}")
    return db


@dataclass
class Redis:
    proc: Proc
    port: int


def start_redis(sup: Supervisor, run: Path, port: int | None = None) -> Redis:
    home = run / "redis"
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    proc = Proc(
        "redis",
        [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(port),
         "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(home),
         "--daemonize", "no"],
        base_env(), home, run / "logs" / "redis.log",
    )
    sup.start(proc)
    if not wait_for(lambda: port_open(port), 15):
        raise RuntimeError(f"redis did not start:\n{proc.log_tail()}")
    return Redis(proc, port)


@dataclass
class Rabbit:
    proc: Proc
    port: int
    epmd: Proc


def traversable(path: Path) -> None:
    """Let a service user reach `path` (a mktemp folder is 0700)."""
    for parent in [path, *path.parents]:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o711)


def start_rabbitmq(sup: Supervisor, run: Path, port: int | None = None) -> Rabbit:
    """A throwaway RabbitMQ node: its own epmd (in the foreground, so it is ours to stop), node
    name, ports and folders. Debian's wrapper runs the node as the `rabbitmq` user."""
    home = run / "rabbitmq"
    (home / "mnesia").mkdir(parents=True, exist_ok=True)
    (home / "log").mkdir(exist_ok=True)
    port = port or free_port()
    epmd_port, dist = free_port(), free_port()
    logs = run / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    conf = home / "rabbitmq.conf"
    conf.write_text(
        f"listeners.tcp.1 = 127.0.0.1:{port}\nloopback_users = none\n"
        "default_user = guest\ndefault_pass = guest\n"
    )
    (home / "enabled_plugins").write_text("[].\n")
    traversable(home)
    uid = pwd.getpwnam("rabbitmq").pw_uid
    for path in [home, *home.rglob("*")]:
        os.chown(path, uid, -1)
    erl = base_env() | {"ERL_EPMD_PORT": str(epmd_port), "ERL_EPMD_ADDRESS": "127.0.0.1", "HOME": str(home)}
    epmd = Proc("epmd", [shutil.which("epmd") or "/usr/bin/epmd", "-port", str(epmd_port), "-address", "127.0.0.1"],
                erl, home, run / "logs" / "epmd.log", user="rabbitmq")
    sup.start(epmd)
    wait_for(lambda: port_open(epmd_port), 10)
    env = erl | {
        "RABBITMQ_NODENAME": f"systest{port}@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(dist),
        "RABBITMQ_MNESIA_BASE": str(home / "mnesia"),
        "RABBITMQ_LOG_BASE": str(home / "log"),
        "RABBITMQ_CONFIG_FILE": str(conf.with_suffix("")),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(home / "enabled_plugins"),
        "RABBITMQ_PID_FILE": str(home / "pid"),
        "RABBITMQ_LOGS": "-",
        "ERL_CRASH_DUMP": str(home / "log" / "erl_crash.dump"),
    }
    # The node script itself, run as `rabbitmq` in the foreground (Debian's /usr/sbin wrapper
    # goes through su and redirects the output away).
    proc = Proc("rabbitmq", ["/usr/lib/rabbitmq/bin/rabbitmq-server"], env, home, run / "logs" / "rabbitmq.log",
                user="rabbitmq")
    sup.start(proc)
    if not wait_for(lambda: port_open(port), 90, interval=0.5):
        raise RuntimeError(f"rabbitmq did not start:\n{proc.log_tail()}")
    return Rabbit(proc, port, epmd)


@dataclass
class Nginx:
    proc: Proc
    port: int


def start_nginx(sup: Supervisor, run: Path, server_conf: str) -> Nginx:
    """nginx unprivileged, with pid/logs/temp paths in its prefix and the generated server block."""
    home = run / "nginx"
    for sub in ("logs", "tmp"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    (home / "server.conf").write_text(server_conf)
    user = "" if os.geteuid() != 0 else "user root;\n"
    (home / "nginx.conf").write_text(
        f"{user}daemon off;\npid {home}/nginx.pid;\nerror_log {home}/logs/error.log warn;\n"
        "events { worker_connections 512; }\n"
        "http {\n"
        f"  access_log {home}/logs/access.log;\n"
        f"  client_body_temp_path {home}/tmp/body;\n  proxy_temp_path {home}/tmp/proxy;\n"
        f"  fastcgi_temp_path {home}/tmp/fcgi;\n  uwsgi_temp_path {home}/tmp/uwsgi;\n"
        f"  scgi_temp_path {home}/tmp/scgi;\n"
        f"  include {home}/server.conf;\n"
        "}\n"
    )
    port = int(server_conf.split("listen ", 1)[1].split(";", 1)[0].split(":")[-1].split()[0])
    proc = Proc(
        "nginx",
        [shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(home), "-c", str(home / "nginx.conf")],
        base_env(), home, run / "logs" / "nginx.log",
    )
    sup.start(proc)
    if not wait_for(lambda: port_open(port), 15):
        raise RuntimeError(f"nginx did not start:\n{proc.log_tail()}\n{(home / 'logs/error.log').read_text()}")
    return Nginx(proc, port)


@dataclass
class Kafka:
    proc: Proc
    port: int


def start_kafka(sup: Supervisor, run: Path, tansu: Path, port: int) -> Kafka:
    """tansu, a Kafka-protocol broker (crates.io), with in-memory storage on a loopback port."""
    home = run / "kafka"
    home.mkdir(parents=True, exist_ok=True)
    url = f"tcp://127.0.0.1:{port}"
    proc = Proc(
        "kafka",
        [str(tansu), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/"],
        base_env() | {"RUST_LOG": "warn"}, home, run / "logs" / "kafka.log",
    )
    sup.start(proc)
    if not wait_for(lambda: port_open(port), 30):
        raise RuntimeError(f"tansu did not start:\n{proc.log_tail()}")
    return Kafka(proc, port)


@dataclass
class Moto:
    proc: Proc
    port: int


def start_moto(sup: Supervisor, run: Path, venv: Path, port: int) -> Moto:
    """moto's server (SNS, SQS, STS in memory) on a loopback port: the compose file's AWS emulator."""
    proc = Proc("moto", [str(venv / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                base_env(), run, run / "logs" / "moto.log")
    sup.start(proc)
    if not wait_for(lambda: port_open(port), 30):
        raise RuntimeError(f"moto_server did not start:\n{proc.log_tail()}")
    return Moto(proc, port)


def create_kafka_topics(port: int, topics: dict[str, int]) -> None:
    """Create each topic with its partition count (replication 1: one local broker)."""
    import asyncio

    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    async def create() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=f"127.0.0.1:{port}")
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            new = [NewTopic(name, parts, 1) for name, parts in sorted(topics.items()) if name not in existing]
            if new:
                await admin.create_topics(new)
        finally:
            await admin.close()

    asyncio.run(create())


NODE_CACHE = Path.home() / ".cache" / "codex-system-design" / "node-modules"


def node_lock_key(folder: Path) -> str:
    """The lockfile's hash without the package's own name: every generated TypeScript service locks the same set."""
    lock = json.loads((folder / "package-lock.json").read_text())
    lock.pop("name", None)
    lock.get("packages", {}).get("", {}).pop("name", None)
    return hashlib.sha256(json.dumps(lock, sort_keys=True).encode()).hexdigest()[:16]


def install_node_service(folder: Path, log: Path) -> None:
    """A TypeScript service from its own dependency files, as its Dockerfile builds it: `npm ci` of its
    package-lock.json (installed once per lockfile under the cache and linked in), then `tsc -p
    tsconfig.build.json` into dist/."""
    target = NODE_CACHE / node_lock_key(folder)
    if not (target / ".complete").exists():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(folder / name, target / name)
        subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=target, check=True,
                       capture_output=True, timeout=900)
        (target / ".complete").touch()
    link = folder / "node_modules"
    if not link.exists():
        link.symlink_to(target / "node_modules")
    log.parent.mkdir(parents=True, exist_ok=True)
    out = subprocess.run([str(target / "node_modules" / ".bin" / "tsc"), "-p", "tsconfig.build.json"], cwd=folder,
                         capture_output=True, text=True, timeout=300)
    log.write_text(out.stdout + out.stderr)
    if out.returncode:
        raise RuntimeError(f"{folder.name}: tsc failed: {out.stdout[-800:]}")
