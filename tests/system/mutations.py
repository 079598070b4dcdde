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
        "    _addr = _addr or getattr(_s, 'sqs_endpoint_url', '').partition('://')[2].rstrip('/')\n"
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


def every_route_jwt(root: Path) -> None:
    """Per-route auth is lost: every route of the HTTP API carries the JWT authorizer again."""
    path = root / "infra" / "terraform" / "main.tf"
    new, n = re.subn(r'authorization = "NONE"', 'authorization = "JWT"', path.read_text())
    if not n:
        raise RuntimeError("mutation every-route-jwt found no public route in main.tf")
    path.write_text(new)


def edit_events(root: Path, what: str, edits: list[tuple[str, str]]) -> None:
    hits = 0
    for path in root.glob("services/*/app/events.py"):
        text = path.read_text()
        for pattern, replacement in edits:
            text, n = re.subn(pattern, replacement, text)
            hits += n
        path.write_text(text)
    if not hits:
        raise RuntimeError(f"mutation {what} matched nothing in services/*/app/events.py")


DIRECT_SEND = """

def _direct(topic: str, key: str, body: bytes) -> None:
    loop = relay._loop
    if loop is not None and publisher.connected:
        asyncio.run_coroutine_threadsafe(publisher.send(topic, key, body), loop)
"""


def no_outbox(root: Path) -> None:
    """The outbox is bypassed: the row is recorded as sent at once and the event is sent
    directly, best effort, as before the outbox (lost while the broker is down)."""
    edit_events(root, "no-outbox", [
        (r"payload=encode\(event\)\.decode\(\),\n        \)\n    \)",
         "payload=encode(event).decode(), sent_at=datetime.now(UTC),\n        )\n    )\n"
         "    _direct(topic, key, encode(event))"),
        (r"\n\nclass Relay:", DIRECT_SEND.replace("\\", "\\\\") + "\n\nclass Relay:"),
    ])


def no_idempotency(root: Path) -> None:
    """Consumers forget which events they handled: a redelivery runs the handler again."""
    edit_events(root, "no-idempotency", [
        (r"\.on_conflict_do_nothing\(\)",
         ".on_conflict_do_update(index_elements=['event_id', 'topic'], set_={'processed_at': sa.func.now()})"),
        (r"if key in _seen:", "if False:"),
        # MySQL's inbox: INSERT IGNORE still inserts nothing, but the handler runs regardless.
        (r"if session\.execute\(record\)\.rowcount == 0:", "if session.execute(record).rowcount < 0:"),
    ])


def no_dead_letters(root: Path) -> None:
    """Dead letters are counted and logged but never sent: a poison message is dropped."""
    edit_events(root, "no-dead-letters", [
        (r"\n    await publisher\.send\(topic \+ DEAD_LETTER_SUFFIX, topic, body, headers\)\n", "\n    pass\n"),
    ])


def no_auth(root: Path) -> None:
    """The services stop requiring a token: every rule lets an anonymous caller through."""
    hits = 0
    for path in root.glob("services/*/app/auth.py"):
        text = path.read_text()
        new, n = re.subn(r"(\n    def check\([^\n]*-> Caller \| None:\n)", r"\1        return who\n", text)
        hits += n
        path.write_text(new)
    if not hits:
        raise RuntimeError("mutation no-auth found no rule check in services/*/app/auth.py")


def no_owner_check(root: Path) -> None:
    """Rows lose their owners: any signed-in user reads and changes every row."""
    hits = 0
    for path in root.glob("services/*/app/crud.py"):
        text = path.read_text()
        new, n = re.subn(r"(\n    def restricted\([^\n]*\n(?:[^\n]*\n)*?)(        return owner_column)", r"\1        return False\n\2", text, count=1)
        hits += n
        path.write_text(new)
    if not hits:
        raise RuntimeError("mutation no-owner-check found no `restricted` in services/*/app/crud.py")


def edit_ts(root: Path, what: str, file: str, pattern: str, replacement: str | Callable[[re.Match[str]], str]) -> None:
    """One edit in every TypeScript service's `file` (services/*/src/...)."""
    hits = 0
    for path in root.glob(f"services/*/src/{file}"):
        text = path.read_text()
        new, n = re.subn(pattern, replacement, text)
        hits += n
        path.write_text(new)
    if not hits:
        raise RuntimeError(f"mutation {what} matched nothing in services/*/src/{file}")


def ts_ignore_depends_on(root: Path) -> None:
    """TypeScript services stop checking references through their dependencies."""
    edit_ts(root, "ts-ignore-depends-on", "crud.ts",
            r"(async function checkReferences\([^\n]*\{\n)", r"\1  return;\n")


def ts_no_owner_check(root: Path) -> None:
    """TypeScript services forget row owners: any signed-in user reads and changes every row."""
    edit_ts(root, "ts-no-owner-check", "crud.ts",
            r"(const restricted = \(who: Caller \| null\): who is Caller => )[^;]*;", r"\1false;")


def ts_swallow_failed_records(root: Path) -> None:
    """TypeScript queue functions stop reporting failed records: a poison message is deleted."""
    edit_ts(root, "ts-swallow-failed-records", "lambda.ts",
            r"batchItemFailures\.push\(\{ itemIdentifier: record\.messageId \}\);", "void record;")


def ts_no_publish(root: Path) -> None:
    """TypeScript functions stop putting their events on the bus, yet report them put."""
    edit_ts(root, "ts-no-publish", "events.ts",
            re.escape("const out = await this.client.send(new PutEventsCommand({ Entries: [entry] }));"),
            "const out = { FailedEntryCount: 0, Entries: [entry] };")


def ts_dynamodb_ignores_referrers(root: Path) -> None:
    """TypeScript functions on DynamoDB delete a row that other rows still refer to (the query on
    the referring table's index is skipped), leaving those rows dangling."""
    edit_ts(root, "ts-dynamodb-ignores-referrers", "crud.ts",
            re.escape("for (const r of this.design.referencedBy) {"),
            'for (const r of [] as TableDesign["referencedBy"]) {')


def ts_dynamodb_pages_restart(root: Path) -> None:
    """TypeScript functions on DynamoDB ignore `after`: every page starts again at the first row."""
    edit_ts(root, "ts-dynamodb-pages-restart", "crud.ts",
            re.escape("ExclusiveStartKey: start };"), "ExclusiveStartKey: undefined };")


def ts_no_outbox(root: Path) -> None:
    """TypeScript services bypass their outbox: the row is recorded as sent at once and the event
    is sent directly, best effort (lost while the broker is down; a monolith's own topics never
    reach their handlers). The same statement serves PostgreSQL and MySQL (`param(n)`)."""
    insert = ("    await q(`INSERT INTO outbox (event_id, topic, aggregate_key, payload) "
              "VALUES (${param(1)}, ${param(2)}, ${param(3)}, ${param(4)})`, [")
    direct = ("    void this.sender?.send(topic, key, Buffer.from(JSON.stringify(event))).catch(() => undefined);\n"
              "    await q(`INSERT INTO outbox (event_id, topic, aggregate_key, payload, sent_at) "
              "VALUES (${param(1)}, ${param(2)}, ${param(3)}, ${param(4)}, now())`, [")
    edit_ts(root, "ts-no-outbox", "events.ts", re.escape(insert), direct.replace("\\", "\\\\"))


def ts_no_idempotency(root: Path) -> None:
    """TypeScript consumers forget which events they handled: a redelivery runs the handler again
    (PostgreSQL: the insert always returns the id; MySQL: REPLACE always counts a row)."""
    edit_ts(root, "ts-no-idempotency", "events.ts",
            r"ON CONFLICT DO NOTHING RETURNING event_id|INSERT IGNORE INTO processed_events",
            lambda m: ("REPLACE INTO processed_events" if m.group(0).startswith("INSERT")
                       else "ON CONFLICT (event_id, topic) DO UPDATE SET processed_at = now() RETURNING event_id"))


def ts_no_dead_letters(root: Path) -> None:
    """TypeScript consumers count and log dead letters but never send them: a poison message is dropped."""
    edit_ts(root, "ts-no-dead-letters", "events.ts",
            re.escape("    await this.sender.send(topic + DEAD_LETTER_SUFFIX, topic, body, headers);\n"),
            "    void headers;\n")


def ts_grpc_drops_metadata(root: Path) -> None:
    """TypeScript gRPC servers stop reading the caller's token from the metadata: its RPCs run as
    an anonymous caller's requests."""
    edit_ts(root, "ts-grpc-drops-metadata", "grpc.ts",
            re.escape('for (const name of ["authorization", "x-request-id"])'), 'for (const name of ["x-request-id"])')


def py_grpc_drops_metadata(root: Path) -> None:
    """A Python gRPC server stops carrying the caller's token to the route: every RPC is anonymous."""
    hits = 0
    for path in root.glob("services/*/app/grpc_api.py"):
        text = path.read_text()
        new, n = re.subn(re.escape('token = metadata.get("authorization")'), "token = None", text)
        hits += n
        path.write_text(new)
    if not hits:
        raise RuntimeError("mutation py-grpc-drops-metadata found no `metadata.get(\"authorization\")` in services/*/app/grpc_api.py")


MUTATIONS = {
    "no-auth": Mutation("auth-anonymous-401", no_auth),
    "no-owner-check": Mutation("auth-owner-403", no_owner_check),
    "swallow-failed-records": Mutation("poison-to-dlq", swallow_failed_records),
    "unset-function-variable": Mutation("cold-start", unset_function_variable),
    "every-route-jwt": Mutation("route-auth", every_route_jwt),
    "no-migrations": Mutation("migrations-applied", drop_migrations),
    "ignore-depends-on": Mutation("depends-on-verified", ignore_depends_on),
    "exit-without-broker": Mutation("services-live", exit_without_broker),
    "no-outbox": Mutation("events-broker-outage", no_outbox),
    "no-idempotency": Mutation("events-redelivered", no_idempotency),
    "no-dead-letters": Mutation("events-poison", no_dead_letters),
    "ts-ignore-depends-on": Mutation("depends-on-verified", ts_ignore_depends_on),
    "ts-no-publish": Mutation("events-delivered", ts_no_publish),
    "ts-no-owner-check": Mutation("auth-owner-403", ts_no_owner_check),
    "ts-swallow-failed-records": Mutation("poison-to-dlq", ts_swallow_failed_records),
    "ts-dynamodb-ignores-referrers": Mutation("crud-walk", ts_dynamodb_ignores_referrers),
    "ts-dynamodb-pages-restart": Mutation("crud-walk", ts_dynamodb_pages_restart),
    "ts-no-outbox": Mutation("events-broker-outage", ts_no_outbox),
    "ts-no-idempotency": Mutation("events-redelivered", ts_no_idempotency),
    "ts-no-dead-letters": Mutation("events-poison", ts_no_dead_letters),
    "ts-grpc-drops-metadata": Mutation("grpc-served", ts_grpc_drops_metadata),
    "py-grpc-drops-metadata": Mutation("grpc-served", py_grpc_drops_metadata),
}
