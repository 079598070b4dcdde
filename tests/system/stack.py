"""The generated system started as its compose file says, on loopback, without Docker.

Input: a generated tree. The compose file is the source of truth: which backing services exist (by
image), each workload's environment, its dependencies and their conditions, the one-shot migration
services. The only changes made are the ones a different network forces: host names become
127.0.0.1 with the port of the local process that plays that compose service, and each workload
listens on a port of its own (loopback is shared).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

import backing
from procs import Proc, Supervisor, free_port, port_open, wait_for


@dataclass
class App:
    """One workload with code of its own (a compose service with `build:`)."""

    name: str
    dir: Path
    env: dict[str, str]
    port: int
    proc: Proc
    grpc_port: int | None = None  # its gRPC API, when it serves one (GRPC_PORT)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Stack:
    root: Path
    run: Path
    sup: Supervisor
    venv: Path
    compose: dict
    model: dict
    endpoints: dict[str, int] = field(default_factory=dict)  # compose service -> loopback port
    kinds: dict[str, str] = field(default_factory=dict)  # compose service -> postgres|redis|...
    pg: backing.Postgres | None = None
    mysql: backing.MariaDB | None = None  # MariaDB playing compose's mysql:8 (engine: mysql)
    db_servers: dict = field(default_factory=dict)  # database name -> the server holding it
    redis: dict[str, backing.Redis] = field(default_factory=dict)
    rabbit: backing.Rabbit | None = None
    kafka: backing.Kafka | None = None
    tansu: Path | None = None
    aws: backing.Moto | None = None  # moto's server playing SNS/SQS (the compose file's emulator)
    apps: dict[str, App] = field(default_factory=dict)
    gateway: backing.Nginx | None = None
    issuer: App | None = None  # the compose file's development token issuer
    migrations: dict[str, str] = field(default_factory=dict)  # migrate service -> outcome
    gaps: list[str] = field(default_factory=list)

    @property
    def services(self) -> dict[str, dict]:
        return self.compose.get("services", {})

    # -- reading the compose file -------------------------------------------------------------

    def kind_of(self, name: str, svc: dict) -> str:
        image = str(svc.get("image", ""))
        labels = svc.get("labels") or {}
        if "build" in svc and isinstance(labels, dict) and labels.get("io.codex-system-design.dev-issuer"):
            return "issuer"
        if isinstance(labels, dict) and labels.get("io.codex-system-design.provisions") == "sqs":
            return "aws-provision"
        if "build" in svc:
            return "app"
        existing = {x["name"]["raw"] for x in self.model["services"] if not x.get("generated") and not x.get("is_gateway")}
        if name in existing:
            return "external"
        for prefix, kind in (
            ("postgres", "postgres"), ("mysql", "mysql"), ("mariadb", "mysql"), ("redis", "redis"), ("apache/kafka", "kafka"),
            ("bitnami/kafka", "kafka"), ("rabbitmq", "rabbitmq"), ("nginx", "gateway"),
            ("otel/", "otel"), ("ghcr.io/amacneil/dbmate", "migrate"), ("amacneil/dbmate", "migrate"),
            ("localstack", "aws"), ("motoserver", "aws"),
        ):
            if image.startswith(prefix):
                return kind
        return "unknown"

    def env_of(self, svc: dict) -> dict[str, str]:
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) for item in env)
        return {str(k): self.repoint("" if v is None else str(v)) for k, v in env.items()}

    def repoint(self, value: str) -> str:
        """Compose host names (`users:8080`, `@orders-db:5432`) → the local process's address."""
        for host, port in sorted(self.endpoints.items(), key=lambda kv: -len(kv[0])):
            value = re.sub(
                rf"(?<![\w.-]){re.escape(host)}:\d+(?![\d])", f"127.0.0.1:{port}", value
            )
        return value

    def order(self) -> list[str]:
        """Compose services in dependency order (depends_on), ties by name."""
        done: list[str] = []
        seen: set[str] = set()

        def visit(name: str, stack: tuple[str, ...]) -> None:
            if name in seen:
                return
            if name in stack:
                raise RuntimeError(f"compose depends_on cycle: {' -> '.join(stack + (name,))}")
            for dep in sorted(self.deps(name)):
                visit(dep, stack + (name,))
            seen.add(name)
            done.append(name)

        for name in sorted(self.services):
            visit(name, ())
        return done

    def deps(self, name: str) -> dict[str, str]:
        deps = self.services[name].get("depends_on") or {}
        if isinstance(deps, list):
            return {d: "service_started" for d in deps}
        return {d: (c or {}).get("condition", "service_started") for d, c in deps.items()}

    # -- starting --------------------------------------------------------------------------------

    def start_backing(self) -> None:
        for name, svc in sorted(self.services.items()):
            kind = self.kind_of(name, svc)
            self.kinds[name] = kind
        for name, kind in sorted(self.kinds.items()):
            svc = self.services[name]
            if kind == "postgres":
                if self.pg is None:
                    self.pg = backing.start_postgres(self.sup, self.run)
                env = svc.get("environment") or {}
                self.pg.create_database(
                    str(env["POSTGRES_DB"]), str(env["POSTGRES_USER"]), str(env["POSTGRES_PASSWORD"])
                )
                self.db_servers[str(env["POSTGRES_DB"])] = self.pg
                self.endpoints[name] = self.pg.port
            elif kind == "mysql":
                if self.mysql is None:
                    self.mysql = backing.start_mariadb(self.sup, self.run)
                env = svc.get("environment") or {}
                self.mysql.create_database(
                    str(env["MYSQL_DATABASE"]), str(env["MYSQL_USER"]), str(env["MYSQL_PASSWORD"])
                )
                self.db_servers[str(env["MYSQL_DATABASE"])] = self.mysql
                self.endpoints[name] = self.mysql.port
            elif kind == "redis":
                self.redis[name] = backing.start_redis(self.sup, self.run / name)
                self.endpoints[name] = self.redis[name].port
            elif kind in ("rabbitmq", "kafka", "aws"):
                # The broker starts after the workloads (start_broker): they must come up without it.
                self.endpoints[name] = free_port()
            elif kind in ("otel", "aws-provision"):
                self.endpoints[name] = free_port()
            elif kind in ("app", "issuer"):
                self.endpoints[name] = free_port()
            elif kind == "external":
                self.gaps.append(f"{name}: an existing image ({svc.get('image')}) cannot run without a container runtime")
            elif kind == "unknown":
                raise RuntimeError(f"compose service `{name}` has an image the system test does not know: {svc.get('image')}")

    def db(self, name: str):
        """The server (PostgreSQL or MariaDB) holding database `name`."""
        return self.db_servers[name]

    def tables(self, name: str) -> set[str]:
        schema = "DATABASE()" if self.db(name).kind == "mysql" else "current_schema()"
        return set(self.db(name).psql(
            f"SELECT table_name FROM information_schema.tables WHERE table_schema = {schema}", db=name
        ).split())

    def run_migrations(self) -> None:
        """Each one-shot migrate service, as compose would run it: its command, env and mount."""
        for name in self.order():
            if self.kinds.get(name) != "migrate":
                continue
            svc = self.services[name]
            env = backing.base_env() | self.env_of(svc)
            command = svc.get("command") or []
            if isinstance(command, str):
                command = shlex.split(command)
            mounts = {}
            for vol in svc.get("volumes") or []:
                src, dst = str(vol).split(":")[:2]
                mounts[dst] = (self.root / "deploy" / "compose" / src).resolve()
            argv = [str(self.venv / "bin" / "dbmate")]
            for arg in command:
                # Mounted paths inside the container → the folder on disk.
                for dst, src in mounts.items():
                    if arg == dst or arg.startswith(dst + "/"):
                        arg = str(src) + arg[len(dst):]
                argv.append(arg)
            if "--migrations-dir" not in argv and "-d" not in argv and "DBMATE_MIGRATIONS_DIR" not in env:
                if "/db/migrations" in mounts:
                    env["DBMATE_MIGRATIONS_DIR"] = str(mounts["/db/migrations"])
            out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
            self.migrations[name] = "ok" if out.returncode == 0 else f"exit {out.returncode}: {out.stderr.strip()[-400:]}"
            (self.run / "logs").mkdir(exist_ok=True)
            (self.run / "logs" / f"{name}.log").write_text(out.stdout + out.stderr)

    def app_command(self, app_dir: Path, port: int) -> list[str]:
        """The Dockerfile's CMD, bound to loopback and the app's own port."""
        cmd = None
        for line in (app_dir / "Dockerfile").read_text().splitlines():
            if line.startswith("CMD "):
                cmd = json.loads(line[4:])
        if not cmd:
            raise RuntimeError(f"{app_dir}/Dockerfile has no CMD")
        out = []
        for i, arg in enumerate(cmd):
            if i and cmd[i - 1] == "--host":
                arg = "127.0.0.1"
            if i and cmd[i - 1] == "--port":
                arg = str(port)
            out.append(arg)
        if out[0] in ("uvicorn", "python"):
            out[0] = str(self.venv / "bin" / out[0])
        return out

    def start_issuer(self, name: str) -> None:
        """The development issuer, as compose builds and runs it (its Dockerfile's CMD)."""
        svc = self.services[name]
        ctx = (self.root / "deploy" / "compose" / svc["build"]["context"]).resolve()
        port = self.endpoints[name]
        env = backing.base_env() | self.env_of(svc)
        env["PYTHONUNBUFFERED"] = "1"
        proc = Proc(name, self.app_command(ctx, port), env, ctx, self.run / "logs" / f"{name}.log")
        self.sup.start(proc)
        self.issuer = App(name, ctx, env, port, proc)
        if not wait_for(lambda: port_open(port), 30):
            raise RuntimeError(f"the development issuer did not start:\n{proc.log_tail()}")

    def token(self, sub: str | None = None, roles: tuple[str, ...] = ()) -> str:
        """A token from the development issuer, as a developer gets one (POST /token)."""
        import httpx

        if self.issuer is None:
            raise RuntimeError("the compose file runs no development issuer")
        body: dict = {"roles": list(roles)}
        if sub:
            body["sub"] = sub
        r = httpx.post(self.issuer.url + "/token", json=body, timeout=10)
        r.raise_for_status()
        return r.json()["access_token"]

    def start_app(self, name: str) -> App:
        svc = self.services[name]
        ctx = (self.root / "deploy" / "compose" / svc["build"]["context"]).resolve()
        port = self.endpoints[name]
        if (ctx / "package.json").exists():
            backing.install_node_service(ctx, self.run / "logs" / f"{name}-build.log")
        env = backing.base_env() | self.env_of(svc)
        env["PORT"] = str(port)  # every workload listens on 8080 in its container; here each needs its own
        grpc_port = free_port() if "GRPC_PORT" in env else None
        if grpc_port is not None:
            env["GRPC_PORT"] = str(grpc_port)
        env["PATH"] = f"{self.venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
        env["PYTHONUNBUFFERED"] = "1"
        proc = Proc(name, self.app_command(ctx, port), env, ctx, self.run / "logs" / f"{name}.log")
        self.sup.start(proc)
        app = App(name, ctx, env, port, proc, grpc_port)
        self.apps[name] = app
        return app

    def start_gateway(self, name: str) -> None:
        svc = self.services[name]
        conf_src = None
        for vol in svc.get("volumes") or []:
            src = str(vol).split(":")[0]
            if src.endswith(".conf"):
                conf_src = (self.root / "deploy" / "compose" / src).resolve()
        if conf_src is None:
            raise RuntimeError(f"gateway `{name}` mounts no nginx configuration")
        text = self.repoint(conf_src.read_text())
        port = free_port()
        text = re.sub(r"listen\s+\d+;", f"listen 127.0.0.1:{port};", text, count=1)
        self.gateway = backing.start_nginx(self.sup, self.run, text)

    def start(self) -> None:
        """Everything but the broker, in compose order."""
        self.start_backing()
        self.run_migrations()
        for name in self.order():
            kind = self.kinds[name]
            if kind == "issuer":
                self.start_issuer(name)
            elif kind == "app":
                self.start_app(name)
            elif kind == "gateway":
                self.start_gateway(name)

    def broker_names(self) -> list[str]:
        return [n for n, k in sorted(self.kinds.items()) if k in ("rabbitmq", "kafka", "aws")]

    def provision_aws(self) -> None:
        """Each one-shot provisioning service, as compose runs it once the emulator is up: its
        entrypoint (the generated script) with its environment, the emulator's address re-pointed."""
        for name, kind in sorted(self.kinds.items()):
            if kind != "aws-provision":
                continue
            svc = self.services[name]
            mounts = {}
            for vol in svc.get("volumes") or []:
                src, dst = str(vol).split(":")[:2]
                mounts[dst] = (self.root / "deploy" / "compose" / src).resolve()
            argv = []
            for arg in svc.get("entrypoint") or []:
                for dst, src in mounts.items():
                    if arg.startswith(dst + "/"):
                        arg = str(src) + arg[len(dst):]
                argv.append(str(self.venv / "bin" / "python") if arg == "python" else arg)
            env = backing.base_env() | self.env_of(svc)
            out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
            (self.run / "logs").mkdir(exist_ok=True)
            (self.run / "logs" / f"{name}.log").write_text(out.stdout + out.stderr)
            if out.returncode != 0:
                raise RuntimeError(f"{name} failed (exit {out.returncode}): {out.stderr.strip()[-800:]}")

    def start_broker(self) -> None:
        for name in self.broker_names():
            port = self.endpoints[name]
            if self.kinds[name] == "aws":
                # moto keeps everything in memory: a (re)start is empty, so the resources are
                # created again as compose's provisioning service creates them.
                self.aws = backing.start_moto(self.sup, self.run, self.venv, port)
                self.provision_aws()
            elif self.kinds[name] == "rabbitmq":
                # A fresh node each time (new epmd and distribution ports; the AMQP port and the
                # data folder stay): Erlang's ports of the node just stopped may still be held.
                self.rabbit = backing.start_rabbitmq(self.sup, self.run, port)
            else:
                if self.tansu is None or not self.tansu.exists():
                    raise RuntimeError("no Kafka-protocol broker binary (tansu); run scripts/system-test.sh")
                if self.kafka is None:
                    self.kafka = backing.start_kafka(self.sup, self.run, self.tansu, port)
                else:
                    self.sup.start(self.kafka.proc)
                    wait_for(lambda: port_open(port), 30)
                # The local compose broker creates topics on first use; tansu does not, and its
                # memory storage starts empty: create the blueprint's topics as provisioned.
                topics = {t["name"]["raw"]: t.get("partitions") or 1 for t in self.model["messaging"]["topics"]}
                topics |= {t["dead_letter"]: 1 for t in self.model["messaging"]["topics"]}
                backing.create_kafka_topics(port, topics)

    def stop_broker(self) -> None:
        procs = [self.kafka.proc] if self.kafka else []
        if self.aws:
            procs.append(self.aws.proc)
        if self.rabbit:
            procs += [self.rabbit.proc, self.rabbit.epmd]
        for proc in procs:
            self.sup.stop(proc)

    def cut_broker(self) -> None:
        """The broker becomes unreachable but keeps what it stored, as a real broker does over
        an outage. RabbitMQ keeps its data folder across a restart; tansu's memory storage does
        not (topics and offsets would be gone), so tansu is frozen (SIGSTOP) instead; so is moto,
        which keeps SNS and SQS in memory too."""
        frozen = self.kafka or self.aws
        if frozen is not None:
            os.kill(frozen.proc.pid, signal.SIGSTOP)
        else:
            self.stop_broker()

    def restore_broker(self) -> None:
        frozen = self.kafka or self.aws
        if frozen is not None:
            os.kill(frozen.proc.pid, signal.SIGCONT)
        else:
            self.start_broker()

    def wait_live(self, timeout: float = 60) -> dict[str, str]:
        """Each app's /healthz; a process that exited is reported at once, with its log."""
        import httpx

        problems: dict[str, str] = {}
        for app in self.apps.values():
            def live(app: App = app) -> bool:
                if not app.proc.running():
                    raise _Exited()
                return httpx.get(app.url + "/healthz", timeout=1).status_code == 200

            try:
                ok = wait_for(live, timeout, stop_on=_Exited)
            except _Exited:
                ok = False
            if not ok:
                state = "exited" if not app.proc.running() else "not answering /healthz"
                problems[app.name] = f"{state}; log tail:\n{app.proc.log_tail()}"
        return problems


class _Exited(Exception):
    pass


def load(root: Path, run: Path, sup: Supervisor, venv: Path, binary: Path, tansu: Path | None = None) -> Stack:
    compose = yaml.safe_load((root / "deploy" / "compose" / "docker-compose.yml").read_text())
    model = json.loads(
        subprocess.run(
            [str(binary), "model", "-f", str(root / "blueprint.yaml")],
            capture_output=True, text=True, check=True,
        ).stdout
    )
    return Stack(root=root, run=run, sup=sup, venv=venv, compose=compose, model=model, tansu=tansu)


__all__ = ["App", "Stack", "load", "port_open", "os"]
