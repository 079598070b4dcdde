"""Deliberate breakages of a generated tree, each of which one named check must catch.

They prove the system test can fail: `system_test.py --mutate NAME` applies one, starts the system
and passes only if the named check fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml


@dataclass
class Mutation:
    check: str
    apply: Callable[[Path], None]


def drop_migrations(root: Path) -> None:
    """The deployment stops applying migrations: no migrate services in compose."""
    path = root / "deploy" / "compose" / "docker-compose.yml"
    compose = yaml.safe_load(path.read_text())
    services = compose["services"]
    gone = [n for n, s in services.items() if "dbmate" in str(s.get("image", ""))]
    for name in gone:
        del services[name]
    for svc in services.values():
        deps = svc.get("depends_on")
        if isinstance(deps, dict):
            for name in gone:
                deps.pop(name, None)
    path.write_text(yaml.safe_dump(compose, sort_keys=False))


def ignore_depends_on(root: Path) -> None:
    """Services stop calling their dependencies: the reference check becomes a no-op."""
    hits = 0
    for path in root.glob("services/*/app/references.py"):
        text = path.read_text()
        new, n = re.subn(r"(\n(?:async )?def verify[^\n]*:\n)", r'\1    return None\n', text)
        hits += n
        path.write_text(new)
    if not hits:
        raise RuntimeError("mutation ignore-depends-on found no `def verify` in services/*/app/references.py")


def exit_without_broker(root: Path) -> None:
    """A service that exits at start-up when its broker is unreachable (the bug of issue 15)."""
    probe = (
        "    import socket\n"
        "    from app.config import get_settings as _settings\n"
        "    _s = _settings()\n"
        "    _addr = getattr(_s, 'kafka_bootstrap_servers', '') or getattr(_s, 'amqp_host', '')\n"
        "    if _addr:\n"
        "        _host, _, _port = _addr.split(',')[0].rpartition(':')\n"
        "        socket.create_connection((_host, int(_port)), timeout=1).close()\n"
    )
    hits = 0
    for path in root.glob("services/*/app/main.py"):
        text = path.read_text()
        new, n = re.subn(r"(async def lifespan\([^\n]*\n)", lambda m: m.group(1) + probe, text)
        hits += n
        path.write_text(new)
    if not hits:
        raise RuntimeError("mutation exit-without-broker found no lifespan in services/*/app/main.py")


def swallow_failed_records(root: Path) -> None:
    """Serverless consumers stop reporting failed records: a poison message is deleted, never dead-lettered."""
    hits = 0
    for path in root.glob("functions/*.py"):
        text = path.read_text()
        new, n = re.subn(r"failures\.append\(\{[^\n]*\}\)", "pass", text)
        hits += n
        path.write_text(new)
    if not hits:
        raise RuntimeError("mutation swallow-failed-records found no failures.append in functions/*.py")


def unset_function_variable(root: Path) -> None:
    """Terraform stops setting DB_USER on the functions: the code's cold-start check must refuse."""
    path = root / "infra" / "terraform" / "main.tf"
    new, n = re.subn(r'\n    \{ name = "DB_USER", value = [^\n]*\},', "", path.read_text())
    if not n:
        raise RuntimeError("mutation unset-function-variable found no DB_USER in main.tf")
    path.write_text(new)


MUTATIONS = {
    "swallow-failed-records": Mutation("poison-to-dlq", swallow_failed_records),
    "unset-function-variable": Mutation("cold-start", unset_function_variable),
    "no-migrations": Mutation("migrations-applied", drop_migrations),
    "ignore-depends-on": Mutation("depends-on-verified", ignore_depends_on),
    "exit-without-broker": Mutation("services-live", exit_without_broker),
}
