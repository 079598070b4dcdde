"""The named checks of the system test (PRODUCT §11, §12), run against a started Stack.

Each check is one behaviour the blueprint promises, observed through the public API, the processes
and the backing services. A check returns a short detail on success and raises Failed with a
message that says what was expected and what happened.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

import backing
import payloads
import procs
from procs import wait_for
from stack import Stack


class Failed(Exception):
    """A behaviour the blueprint promises did not hold."""


def expect(cond: bool, message: str) -> None:
    if not cond:
        raise Failed(message)


@dataclass
class Edge:
    """A `depends_on` edge used through a reference field: caller verifies ids at the callee."""

    caller: str
    callee: str
    entity: str  # the caller's entity holding the field
    field: str
    target: str  # the callee's entity


@dataclass
class World:
    stack: Stack
    label: str
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=15))
    results: list[tuple[str, bool, str]] = field(default_factory=list)
    resources: dict[str, payloads.Resource] = field(default_factory=dict)
    nonce: int = 0

    def __post_init__(self) -> None:
        # Every request of the checks carries an admin's token from the development issuer that
        # also holds every role a route requires (the model's test_roles: the admin role sees every
        # row but passes only `role(admin)`); the auth checks send their own.
        if self.stack.issuer is not None:
            self.http.headers["Authorization"] = self.bearer("system-test-admin", tuple(self.model["security"]["test_roles"]))
        for app in self.stack.apps.values():
            openapi = app.dir / "openapi.yaml"
            if openapi.exists():
                for res in payloads.resources(app.name, openapi):
                    self.resources[res.entity] = res

    # -- model facts -------------------------------------------------------------------------

    @property
    def model(self) -> dict:
        return self.stack.model

    def service(self, name: str) -> dict:
        return next(s for s in self.model["services"] if s["name"]["raw"] == name)

    def entity(self, name: str) -> dict:
        return next(e for e in self.model["entities"] if e["name"]["raw"] == name)

    def edges(self) -> list[Edge]:
        if not self.model.get("is_microservices"):
            return []
        out = []
        for svc in self.model["services"]:
            if not svc.get("generated"):
                continue  # an existing image: not started here (GAPS.md)
            deps = {d["name"]["raw"] for d in svc.get("depends_on", [])}
            for ent in svc.get("entities", []):
                for col in self.entity(ent)["columns"]:
                    ref = col.get("reference")
                    if not ref:
                        continue
                    owner = self.entity(ref["entity"]).get("owner")
                    if owner in deps and owner != svc["name"]["raw"]:
                        out.append(Edge(svc["name"]["raw"], owner, ent, col["name"], ref["entity"]))
        return out

    def app_for(self, entity: str) -> str:
        return self.resources[entity].service

    def base(self, entity: str) -> str:
        """The gateway when a gateway route serves the path, else the app itself."""
        path = self.resources[entity].path
        gw = self.stack.gateway
        for svc in self.model["services"]:
            for route in svc.get("routes") or []:
                if gw and (path == route["path"] or path.startswith(route["path"].rstrip("/") + "/")):
                    return f"http://127.0.0.1:{gw.port}"
        return self.stack.apps[self.app_for(entity)].url

    def url(self, entity: str, suffix: str = "") -> str:
        return self.base(entity) + self.resources[entity].path + suffix

    @property
    def admin_role(self) -> str:
        return self.model["security"]["admin_role"]

    def bearer(self, sub: str | None = None, roles: tuple[str, ...] = ()) -> str:
        return f"Bearer {self.stack.token(sub, roles)}"

    # -- requests ----------------------------------------------------------------------------

    def refs_for(self, entity: str) -> dict[str, Any]:
        refs = {}
        for col in self.entity(entity)["columns"]:
            ref = col.get("reference")
            if ref and not col.get("nullable") and ref["entity"] in self.resources:
                refs[col["name"]] = self.create(ref["entity"])["id"]
        return refs

    def create_body(self, entity: str) -> dict[str, Any]:
        self.nonce += 1
        return payloads.body(self.resources[entity], self.nonce, self.refs_for(entity))

    def create(self, entity: str, **overrides: Any) -> dict[str, Any]:
        body = self.create_body(entity) | overrides
        r = self.http.post(self.url(entity), json=body)
        expect(r.status_code == 201, f"POST {self.resources[entity].path} {body} → {r.status_code} {r.text[:300]}")
        return r.json()

    def metrics(self, app: str) -> str:
        return self.http.get(self.stack.apps[app].url + "/metrics").text

    def ready(self, app: str) -> tuple[int, dict]:
        r = self.http.get(self.stack.apps[app].url + "/readyz", timeout=5)
        try:
            return r.status_code, r.json()
        except ValueError:
            return r.status_code, {"body": r.text[:200]}

    # -- running -----------------------------------------------------------------------------

    def check(self, name: str, fn: Callable[[], str | None]) -> None:
        start = time.monotonic()
        try:
            detail = fn() or ""
            ok = True
        except Failed as exc:
            ok, detail = False, str(exc)
        except Exception as exc:  # noqa: BLE001 - a crash in a check is that check's failure
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        took = time.monotonic() - start
        self.results.append((name, ok, detail))
        status = "PASS" if ok else "FAIL"
        print(f"{status} system {self.label} {name}: {detail} ({took:.1f}s)".replace("\n", "\n    "), flush=True)


def counter(text: str, metric: str, **labels: str) -> float:
    """Sum of a Prometheus counter's samples whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(metric + "{"):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total


def route_template(path: str) -> str:
    return path + "/{id}"


# -- the checks ------------------------------------------------------------------------------


def migrations_applied(w: World) -> str:
    s = w.stack
    expect(s.db_servers or not w.model["databases"], "databases declared but no database server in compose")
    done = []
    for db in w.model["databases"]:
        name = db["name"]["raw"]
        migrate = [m for m, outcome in s.migrations.items() if name in m]
        expect(migrate, f"database {name}: compose has no migration service for it, so nothing applies its schema")
        for m in migrate:
            expect(s.migrations[m] == "ok", f"{m}: {s.migrations[m]}")
        expect(db["db_name"] in s.db_servers, f"database {name}: compose has no server holding {db['db_name']}")
        tables = s.tables(db["db_name"])
        want = {w.entity(e)["table"] for e in db.get("entities", [])}
        missing = want - tables
        expect(not missing, f"database {name}: tables {sorted(missing)} missing after {migrate}")
        done.append(f"{name} ({len(want)} tables)")
    # Every app that uses a database waits for its migration (compose condition).
    for app in s.apps:
        deps = s.deps(app)
        uses_db = any(s.kinds.get(d) in ("postgres", "mysql") for d in deps)
        if uses_db:
            waits = [d for d, c in deps.items() if s.kinds.get(d) == "migrate" and c == "service_completed_successfully"]
            expect(waits, f"{app} uses a database but does not wait for its migration (service_completed_successfully)")
    return ", ".join(done) or "no databases"


def services_live(w: World) -> str:
    problems = w.stack.wait_live(60)
    expect(not problems, "; ".join(f"{k}: {v}" for k, v in problems.items()))
    return f"{len(w.stack.apps)} workloads answer /healthz"


def uses_broker(w: World, app: str) -> bool:
    """Whether a workload publishes or consumes (a monolith: any of its modules)."""
    names = {s["name"]["raw"] for s in w.model["services"]}
    members = [app] if app in names and w.model.get("is_microservices") else sorted(names)
    return any(w.service(n).get("publishes") or w.service(n).get("consumes") for n in members)


def starts_without_broker(w: World) -> str:
    """Started before the broker exists: alive, and not ready naming the broker (§11.1)."""
    if not w.stack.broker_names():
        return "no broker in this system"
    out = []
    for app in w.stack.apps:
        if not uses_broker(w, app):
            continue
        ok = wait_for(lambda: w.ready(app)[0] == 503, 20, interval=0.5)
        status, body = w.ready(app)
        expect(ok and body.get("checks", {}).get("broker", "ok") != "ok",
               f"{app} without its broker: /readyz → {status} {body}, expected 503 naming the broker")
        expect(w.stack.apps[app].proc.running(), f"{app} exited without its broker:\n{w.stack.apps[app].proc.log_tail()}")
        out.append(f"{app} live, /readyz 503 broker={body['checks']['broker']}")
    return "; ".join(out) or "no workload uses the broker"


def readiness(w: World) -> str:
    """The broker appears: every workload becomes ready without a restart."""
    w.stack.start_broker()
    out = []
    for app in w.stack.apps:
        pid = w.stack.apps[app].proc.pid
        ok = wait_for(lambda: w.ready(app)[0] == 200, 90, interval=0.5)
        status, body = w.ready(app)
        expect(ok, f"{app} /readyz → {status} {body}, expected 200 once the broker is up")
        expect(w.stack.apps[app].proc.pid == pid and w.stack.apps[app].proc.running(), f"{app} restarted")
        out.append(f"{app} 200")
    return ", ".join(out)


def gateway_routes(w: World) -> str:
    """Every gateway route reaches its service: a collection under it lists through nginx."""
    gw = w.stack.gateway
    if gw is None:
        return "no gateway"
    seen = []
    for svc in w.model["services"]:
        for route in svc.get("routes") or []:
            prefix = route["path"].rstrip("/")
            under = [r.path for r in w.resources.values() if r.path == prefix or r.path.startswith(prefix + "/")]
            expect(under, f"gateway route {route['path']} → {route['service']}: no API collection under it")
            r = w.http.get(f"http://127.0.0.1:{gw.port}{under[0]}", params={"limit": 1})
            expect(r.status_code == 200, f"GET {under[0]} through the gateway → {r.status_code} {r.text[:200]}")
            seen.append(route["path"])
    return f"{len(seen)} routes reach their service"


def crud(w: World) -> str:
    done = []
    for entity, res in sorted(w.resources.items()):
        row = w.create(entity)
        key = row["id"]
        r = w.http.get(w.url(entity, f"/{key}"))
        expect(r.status_code == 200 and r.json() == row, f"GET {res.path}/{key} → {r.status_code} {r.text[:200]}, expected the created row")
        patch = {}
        for name, prop in res.update.get("properties", {}).items():
            s = payloads.non_null(res.spec, prop)
            if s.get("type") == "string" and not s.get("format") and "enum" not in s and name not in w.refs_for_names(entity):
                patch = {name: payloads.sample(res.spec, prop, name, 9999)}
                break
        if patch:
            r = w.http.patch(w.url(entity, f"/{key}"), json=patch)
            expect(r.status_code == 200 and all(r.json()[k] == v for k, v in patch.items()),
                   f"PATCH {res.path}/{key} {patch} → {r.status_code} {r.text[:200]}")
        done.append(entity)
    return f"create/read/update on {len(done)} entities: {', '.join(done)}"


def references_verified(w: World) -> str:
    edges = w.edges()
    declared = {(s["name"]["raw"], d["name"]["raw"]) for s in w.model["services"] if s.get("generated")
                for d in s.get("depends_on", []) if d["protocol"] != "grpc"}
    # A grpc-only callee is dialled at X_GRPC_ADDR, with no generated client that could verify a
    # reference through it yet (GAPS.md): only its readiness (a TCP check) is the caller's.
    over_grpc = sorted((s["name"]["raw"], d["name"]["raw"]) for s in w.model["services"] if s.get("generated")
                       for d in s.get("depends_on", []) if d["protocol"] == "grpc")
    if not w.model.get("is_microservices"):
        return "monolith: references are foreign keys in one database"
    unused = sorted(declared - {(e.caller, e.callee) for e in edges})
    expect(not unused, f"depends_on edges no field refers through, so no call can be observed: {unused}")
    out = []
    for e in edges:
        res = w.resources[e.entity]
        callee_route = route_template(w.resources[e.target].path)
        before = counter(w.metrics(e.callee), "http_requests_total", method="GET", route=callee_route)
        count_before = rows(w, e.entity)
        bogus = str(uuid.uuid4())
        r = w.http.post(w.url(e.entity), json=w.create_body(e.entity) | {e.field: bogus})
        expect(r.status_code == 422 and e.field in r.text,
               f"{e.caller}: POST {res.path} with unknown {e.field} → {r.status_code} {r.text[:200]}, expected 422 naming {e.field}")
        expect(rows(w, e.entity) == count_before, f"{e.caller}: a row was written for an unknown {e.field}")
        w.create(e.entity)
        # The callee counts a request once its answer is sent: the caller may be faster.
        def seen() -> float:
            return counter(w.metrics(e.callee), "http_requests_total", method="GET", route=callee_route)

        wait_for(lambda: seen() >= before + 2, 5, interval=0.1)
        after = seen()
        expect(after >= before + 2, f"{e.callee} saw {after - before:.0f} GET {callee_route} for 2 creates at {e.caller}, expected ≥ 2")
        out.append(f"{e.caller}→{e.callee} ({e.entity}.{e.field})")
    if over_grpc:
        out.append(f"over gRPC, readiness only: {over_grpc}")
    return "; ".join(out) or "no depends_on edges"


def database_of(w: World, ent: dict) -> dict:
    """The model's database holding an entity's table."""
    return next(d for d in w.model["databases"] if d["name"]["raw"] == ent["database"])


def rows(w: World, entity: str) -> int:
    ent = w.entity(entity)
    db = database_of(w, ent)
    return int(w.stack.db(db["db_name"]).psql(f'SELECT count(*) FROM "{ent["table"]}"', db=db["db_name"]))


def dependency_down(w: World) -> str:
    out = []
    for e in w.edges():
        callee = w.stack.apps[e.callee]
        budget = w.service(e.caller).get("resilience", {}).get("timeout_seconds") or 5.0
        body = w.create_body(e.entity)
        count_before = rows(w, e.entity)
        w.stack.sup.stop(callee.proc)
        try:
            start = time.monotonic()
            r = w.http.post(w.url(e.entity), json=body, timeout=budget + 10)
            took = time.monotonic() - start
            expect(r.status_code == 503, f"{e.caller} with {e.callee} down: POST → {r.status_code} {r.text[:200]}, expected 503")
            expect(took <= budget + 1.0, f"{e.caller} took {took:.1f}s with {e.callee} down; the budget is {budget}s")
            expect(rows(w, e.entity) == count_before, f"{e.caller} wrote a row while {e.callee} was down")
            status, ready = w.ready(e.caller)
            expect(status == 200 and ready.get("checks", {}).get(e.callee, "ok") != "ok",
                   f"{e.caller} /readyz → {status} {ready} with {e.callee} down: expected 200, reporting it unreachable")
        finally:
            w.stack.sup.start(callee.proc)
            wait_alive(w, callee.proc, callee.url, 60)
        out.append(f"{e.caller} 503 in {took:.2f}s with {e.callee} down")
    return "; ".join(out) or "no depends_on edges"


def cache_aside(w: World) -> str:
    out = []
    import redis as redislib

    for cache in w.model.get("caches", []):
        compose_name = cache["name"]["raw"]
        server = w.stack.redis.get(compose_name)
        expect(server is not None, f"cache {compose_name}: no Redis in compose")
        client = redislib.Redis(host="127.0.0.1", port=server.port, socket_timeout=2)
        for svc_name in cache["services"]:
            svc = w.service(svc_name)
            for entity in svc.get("entities", []):
                if entity not in w.resources:
                    continue
                app = w.app_for(entity)
                table = w.entity(entity)["table"]
                row = w.create(entity)
                key = f"{svc_name}:{table}:{row['id']}"
                r = w.http.get(w.url(entity, f"/{row['id']}"))
                expect(r.status_code == 200, f"GET → {r.status_code}")
                expect(client.exists(key) == 1, f"after GET by id, Redis has no key {key} (keys: {client.keys('*')[:5]})")
                ttl = client.ttl(key)
                expect(ttl > 0, f"{key} has no TTL ({ttl})")
                res = w.resources[entity]
                patch = {n: payloads.sample(res.spec, p, n, 4242) for n, p in res.update.get("properties", {}).items()
                         if payloads.non_null(res.spec, p).get("type") == "string" and not payloads.non_null(res.spec, p).get("format")
                         and "enum" not in payloads.non_null(res.spec, p)}
                if patch:
                    first = dict([next(iter(patch.items()))])
                    r = w.http.patch(w.url(entity, f"/{row['id']}"), json=first)
                    expect(r.status_code == 200, f"PATCH → {r.status_code} {r.text[:200]}")
                    expect(client.exists(key) == 0, f"PATCH did not invalidate {key}")
                w.stack.sup.stop(server.proc)
                try:
                    errors = counter(w.metrics(app), "cache_requests_total", result="error")
                    r = w.http.get(w.url(entity, f"/{row['id']}"), timeout=5)
                    after = counter(w.metrics(app), "cache_requests_total", result="error")
                    expect(after > errors, f"with Redis down a read did not count a cache error ({errors} → {after})")
                    expect(r.status_code == 200, f"with Redis down GET by id → {r.status_code}, expected 200 from the database")
                    status, body = w.ready(app)
                    expect(status == 200, f"with Redis down {app} /readyz → {status} {body}: a cache outage must not make it unready")
                    expect(str(body.get("checks", {}).get("cache", "")).startswith("degraded"),
                           f"with Redis down {app} /readyz does not name the cache as degraded: {body}")
                finally:
                    w.stack.sup.start(server.proc)
                out.append(f"{svc_name}: {entity} hit/invalidate/fallback")
    return "; ".join(out) or "no caches"


def input_rejected(w: World) -> str:
    tried = 0
    for entity, res in sorted(w.resources.items()):
        good = w.create_body(entity)
        cases: list[tuple[str, dict]] = []
        for name in payloads.string_fields(res):
            cases.append((f"{name}=''", good | {name: ""}))
            cases.append((f"{name} with NUL", good | {name: "a\x00b"}))
        for name, below in payloads.bounded_fields(res):
            cases.append((f"{name}={below}", good | {name: below}))
        for name, prop in res.create.get("properties", {}).items():
            s = payloads.non_null(res.spec, prop)
            if s.get("format") == "email":
                cases.append((f"{name} not an email", good | {name: "not-an-email"}))
            if "enum" in s:
                cases.append((f"{name} outside its enum", good | {name: "no-such-value"}))
        for label, body in cases:
            r = w.http.post(w.url(entity), json=body)
            expect(r.status_code == 422, f"POST {res.path} with {label} → {r.status_code} {r.text[:200]}, expected 422")
            tried += 1
        for query in ({"limit": "1e20"}, {"limit": "0"}, {"after": "not-a-cursor\x00"}):
            r = w.http.get(w.url(entity), params=query)
            expect(400 <= r.status_code < 500, f"GET {res.path}?{query} → {r.status_code} {r.text[:200]}, expected 4xx")
            tried += 1
        r = w.http.get(w.url(entity, "/not-a-uuid"))
        expect(r.status_code in (404, 422), f"GET {res.path}/not-a-uuid → {r.status_code}, expected 404/422")
    return f"{tried} malformed requests answered 4xx"


def pagination(w: World) -> str:
    entity = min(w.resources)
    made = {w.create(entity)["id"] for _ in range(3)}
    seen: list[str] = []
    after = None
    for _ in range(1000):
        params = {"limit": 2} | ({"after": after} if after else {})
        r = w.http.get(w.url(entity), params=params)
        expect(r.status_code == 200, f"GET {w.resources[entity].path}?{params} → {r.status_code} {r.text[:200]}")
        page = r.json()
        expect("next" in page and "items" in page, f"page without items/next (keyset pagination): {list(page)}")
        expect("total" not in page, "page has a total: a COUNT(*) per page")
        seen += [item["id"] for item in page["items"]]
        after = page["next"]
        if not after:
            break
    expect(len(seen) == len(set(seen)), "keyset walk returned a row twice")
    expect(made <= set(seen), "keyset walk missed rows just created")
    return f"{entity}: {len(seen)} rows in pages of 2, no duplicates"


def database_down(w: World) -> str:
    if not w.stack.db_servers:
        return "no database"
    entity = min(w.resources)
    app = w.app_for(entity)
    pg = w.stack.db(database_of(w, w.entity(entity))["db_name"])
    w.stack.sup.stop(pg.proc)
    try:
        ok = wait_for(lambda: w.ready(app)[0] == 503, 15, interval=0.5)
        status, body = w.ready(app)
        expect(ok and body.get("checks", {}).get("database", "ok") != "ok",
               f"{app} with its database down: /readyz → {status} {body}, expected 503 naming the database")
        r = w.http.get(w.stack.apps[app].url + w.resources[entity].path + f"/{uuid.uuid4()}", timeout=15)
        expect(r.status_code in (500, 503), f"GET with the database down → {r.status_code}")
        failed_status = str(r.status_code)
        expect(w.stack.apps[app].proc.running(), f"{app} exited when its database went down")
        live = w.http.get(w.stack.apps[app].url + "/healthz", timeout=5).status_code
        expect(live == 200, f"{app} /healthz → {live} with its database down; liveness must not depend on it")
    finally:
        w.stack.sup.start(pg.proc)
        wait_for(pg.ready, 30)
    ok = wait_for(lambda: w.ready(app)[0] == 200, 45, interval=0.5)
    expect(ok, f"{app} did not become ready again after the database came back: {w.ready(app)}")
    text = w.metrics(app)
    n = counter(text, "http_requests_total", status=failed_status, route=route_template(w.resources[entity].path))
    expect(n >= 1, f"the failed request (status {failed_status}) is not in {app}'s http_requests_total")
    return f"{app}: /readyz 503 naming the database, request {failed_status} counted, ready again"


def request_id_propagated(w: World) -> str:
    """X-Request-ID echoed and carried, with the trace, to every dependency the request calls."""
    request_id = f"system-{uuid.uuid4().hex[:12]}"
    trace_id = uuid.uuid4().hex
    headers = {"X-Request-ID": request_id, "traceparent": f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"}
    edges = w.edges()
    entity = edges[0].entity if edges else min(w.resources)
    r = w.http.post(w.url(entity), json=w.create_body(entity), headers=headers)
    expect(r.status_code == 201, f"POST {w.resources[entity].path} → {r.status_code} {r.text[:200]}")
    expect(r.headers.get("x-request-id") == request_id,
           f"response X-Request-ID {r.headers.get('x-request-id')!r}, expected the caller's {request_id!r}")
    seen = []
    for app in sorted({w.app_for(entity)} | {e.callee for e in edges if e.entity == entity}):
        def lines(app: str = app) -> list[str]:
            text = w.stack.apps[app].proc.log.read_text(errors="replace")
            return [line for line in text.splitlines() if request_id in line]

        # The access line is written once the response has gone out: give it a moment.
        expect(wait_for(lambda: bool(lines()), 5), f"{app} logged nothing with request id {request_id}")
        expect(any(trace_id in line for line in lines()),
               f"{app}: log lines of request {request_id} do not continue trace {trace_id}: {lines()[:1]}")
        seen.append(app)
    return f"request id and trace {trace_id[:8]}… echoed and logged by {', '.join(seen)}"


def conflict_409(w: World) -> str:
    """A duplicate unique value is a 409 naming nothing secret, and nothing is written."""
    out = []
    for entity, res in sorted(w.resources.items()):
        unique = [c for c in w.entity(entity)["columns"] if c.get("unique") and not c.get("pk")
                  and c["name"] in res.create.get("properties", {})]
        if not unique:
            continue
        first = w.create(entity)
        before = rows(w, entity)
        col = unique[0]["name"]
        r = w.http.post(w.url(entity), json=w.create_body(entity) | {col: first[col]})
        expect(r.status_code == 409, f"POST {res.path} with a duplicate {col} → {r.status_code} {r.text[:200]}, expected 409")
        expect(rows(w, entity) == before, f"a duplicate {col} wrote a row")
        out.append(f"{entity}.{col}")
    return f"409 on duplicate {', '.join(out)}" if out else "no unique fields"


def statement_timeout(w: World) -> str:
    """A statement blocked longer than DB_STATEMENT_TIMEOUT_MS is cancelled and answered 503 in time."""
    if not w.stack.db_servers:
        return "no database"
    entity = min(w.resources)
    app = w.app_for(entity)
    ent = w.entity(entity)
    pg = w.stack.db(database_of(w, ent)["db_name"])
    # The environment overrides the preset's value that the code carries as its default.
    preset = (w.service(ent["owner"]).get("database") or {}).get("statement_timeout_ms", 0)
    limit_ms = int(w.stack.apps[app].env.get("DB_STATEMENT_TIMEOUT_MS", preset))
    expect(limit_ms > 0, f"{app}: no statement timeout in the model or the compose environment")
    db = database_of(w, ent)
    hold = limit_ms / 1000 + 6
    if pg.kind == "mysql":
        # A write lock held by a sleeping session; the server's own limit must stop the app's read.
        locker = subprocess.Popen(
            ["mariadb", "--protocol=socket", "-S", str(pg.socket), "-u", "root", db["db_name"], "-e",
             f"LOCK TABLES `{ent['table']}` WRITE; SELECT SLEEP({hold}) AS system_test_locker;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    else:
        locker = subprocess.Popen(
            [str(backing.PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", db["db_name"],
             "-c", f'BEGIN; LOCK TABLE "{ent["table"]}" IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep({hold}); COMMIT;'],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={"PGAPPNAME": "system-test-locker"},
        )
    try:
        time.sleep(0.5)
        start = time.monotonic()
        r = w.http.get(w.stack.apps[app].url + w.resources[entity].path, params={"limit": 1}, timeout=hold + 5)
        took = time.monotonic() - start
    finally:
        # The server keeps the lock until pg_sleep ends unless the backend itself is ended.
        if pg.kind == "mysql":
            for pid in pg.psql("SELECT id FROM information_schema.processlist "
                               "WHERE info LIKE '%system_test_locker%' AND info NOT LIKE '%processlist%'").split():
                pg.psql(f"KILL {pid}")
        else:
            pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'system-test-locker'")
        locker.wait(timeout=10)
    expect(r.status_code == 503, f"GET {w.resources[entity].path} on a locked table → {r.status_code} {r.text[:200]}, expected 503")
    expect(took <= limit_ms / 1000 + 2, f"answered after {took:.1f}s; the statement timeout is {limit_ms} ms")
    r = w.http.get(w.stack.apps[app].url + w.resources[entity].path, params={"limit": 1})
    expect(r.status_code == 200, f"after the lock is released GET → {r.status_code}")
    return f"{app}: 503 after {took:.1f}s on a locked table (timeout {limit_ms} ms), 200 after"


def wait_alive(w: World, proc: procs.Proc, base: str, timeout: float) -> None:
    """Until `proc` answers /healthz 200; a process that exits or stays silent fails the check
    with its exit status and the end of its log."""
    up = wait_for(lambda: not proc.running() or w.http.get(base + "/healthz", timeout=1).status_code == 200, timeout)
    if proc.running() and up:
        return
    state = f"exited with {proc.popen.returncode}" if not proc.running() else f"no /healthz 200 in {timeout:.0f}s"
    raise Failed(f"{proc.name} {state}; log tail:\n{proc.log_tail()}")


def schema_behind(w: World) -> str:
    """A copy of a workload against an empty database of its own: alive, /readyz 503 naming the schema."""
    if not w.stack.db_servers:
        return "no database"
    entity = min(w.resources)
    app = w.stack.apps[w.app_for(entity)]
    url = app.env.get("DATABASE_URL", "")
    expect(url, f"{app.name} has no DATABASE_URL")
    ent = w.entity(entity)
    db = database_of(w, ent)
    pg = w.stack.db(db["db_name"])
    empty = f"{db['db_name']}_empty"
    pg.psql(f'DROP DATABASE IF EXISTS "{empty}"')
    if pg.kind == "mysql":
        pg.psql(f'CREATE DATABASE "{empty}"')
        pg.psql(f"GRANT ALL ON \"{empty}\".* TO '{db['user']}'@'%'")
    else:
        pg.psql(f'CREATE DATABASE "{empty}" OWNER "{db["user"]}"')
    port = procs.free_port()
    env = app.env | {"DATABASE_URL": url.rsplit("/", 1)[0] + "/" + empty, "PORT": str(port)}
    if "GRPC_PORT" in env:
        env["GRPC_PORT"] = str(procs.free_port())  # the copy's own, as its HTTP port
    copy = procs.Proc(f"{app.name}-empty", w.stack.app_command(app.dir, port), env, app.dir,
                      w.stack.run / "logs" / f"{app.name}-empty.log")
    w.stack.sup.start(copy)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_alive(w, copy, base, 60)
        r = w.http.get(base + "/readyz", timeout=5)
        body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        schema = str(body.get("checks", {}).get("schema", ""))
        expect(r.status_code == 503 and schema and schema != "ok",
               f"{app.name} against an empty database: /readyz → {r.status_code} {r.text[:200]}, expected 503 naming the schema")
    finally:
        w.stack.sup.stop(copy)
        pg.psql(f'DROP DATABASE IF EXISTS "{empty}"')
    return f"{app.name} on an empty database: /readyz 503, schema: {schema[:80]}"


def metrics_templates(w: World) -> str:
    uuid_re = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")
    for app in w.stack.apps:
        text = w.metrics(app)
        expect("http_requests_total{" in text, f"{app} exports no http_requests_total")
        bad = [line for line in text.splitlines() if line.startswith("http_requests_total{") and uuid_re.search(line)]
        expect(not bad, f"{app} has ids in route labels: {bad[:2]}")
    return f"{len(w.stack.apps)} workloads label requests by route template"


def grpc_calls(w: World, app: str, calls: list[dict]) -> list[dict]:
    """Unary calls to a workload's gRPC API by a real client: @grpc/grpc-js for a TypeScript
    server (grpc_probe.mjs), grpcio for a Python one (grpc_probe.py, in the services' venv)."""
    import json as jsonlib
    from pathlib import Path

    a = w.stack.apps[app]
    if (a.dir / "package.json").exists():
        argv = ["node", str(Path(__file__).with_name("grpc_probe.mjs"))]
    else:
        argv = [str(w.stack.venv / "bin" / "python"), str(Path(__file__).with_name("grpc_probe.py"))]
    out = subprocess.run(argv, input=jsonlib.dumps({"dir": str(a.dir), "address": f"127.0.0.1:{a.grpc_port}", "calls": calls}),
                         capture_output=True, text=True, timeout=120)
    expect(out.returncode == 0, f"the gRPC client failed on {app}: {out.stderr[-800:]}")
    return jsonlib.loads(out.stdout)


def grpc_served(w: World) -> str:
    """Each service whose code serves gRPC (TypeScript or Python) serves its .proto on GRPC_PORT:
    the standard health service answers SERVING, a row created over gRPC with the token in the
    metadata is the row the HTTP API reads, an anonymous write is UNAUTHENTICATED, an unknown key
    NOT_FOUND, and the RPCs are counted in grpc_server_handled_total."""
    OK, UNAUTHENTICATED, NOT_FOUND = 0, 16, 5
    served = [s for s in w.model["services"] if s["code"].get("grpc") and s["name"]["kebab"] in w.stack.apps]
    if not served:
        return "no workload here serves gRPC"
    token = w.http.headers["Authorization"]
    done = []
    for s in served:
        app, g = s["name"]["kebab"], s["code"]["grpc"]
        expect(w.stack.apps[app].grpc_port is not None, f"{app} declares grpc but its environment has no GRPC_PORT")
        health = grpc_calls(w, app, [{"rpc": "health", "request": {"service": ""}}, {"rpc": "health", "request": {"service": g["service"]}}])
        expect(all(h["code"] == OK and h["reply"]["status"] == "SERVING" for h in health),
               f"{app}: grpc.health.v1.Health/Check → {health}, expected SERVING for the server and {g['service']}")
        for i, r in enumerate(g["entities"]):
            e = next(e for e in w.model["entities"] if e["name"]["snake"] == r["entity"])
            entity = e["name"]["pascal"]
            pk = next(c for c in e["columns"] if c["pk"])
            write = (e["code"]["auth"].get("write") or {}).get("kind", "user")
            body = w.create_body(entity)
            unknown = 2147483000 if pk["kind"] in ("int", "bigint") else "00000000-0000-4000-8000-00000000dead"
            calls = [
                {"rpc": r["create"], "entity": i, "row": body, "token": token},
                {"rpc": r["create"], "entity": i, "row": w.create_body(entity)},
                {"rpc": r["get"], "request": {r["pk"]: unknown}, "token": token},
                {"rpc": r["list"], "request": {"page_size": 1}, "token": token},
            ]
            created, anonymous, missing, page = grpc_calls(w, app, calls)
            expect(created["code"] == OK, f"{app} {r['create']} with an admin token → {created}")
            key = created["reply"][r["field"]][r["pk"]]
            got = w.http.get(w.url(entity, f"/{key}"))
            expect(got.status_code == 200, f"the row {r['create']} made is not in the HTTP API: GET → {got.status_code} {got.text[:200]}")
            row = got.json()
            skip = set(r["timestamps"]) | set(r["structs"])
            differ = {k: (v, row.get(k)) for k, v in body.items() if k not in skip and not same_value(v, row.get(k))}
            expect(not differ, f"{app}: the row made over gRPC differs from the request: {differ}")
            if write != "public":
                expect(anonymous["code"] == UNAUTHENTICATED, f"{app} {r['create']} without a token → {anonymous}, expected UNAUTHENTICATED")
            expect(missing["code"] == NOT_FOUND, f"{app} {r['get']} of an unknown key → {missing}, expected NOT_FOUND")
            expect(page["code"] == OK and len(page["reply"]["items"]) == 1, f"{app} {r['list']} page_size 1 → {page}")
            done.append(f"{app}.{r['create']}")
        # Per entity: the create and the list succeeded, the unknown key was NOT_FOUND.
        text = w.metrics(app)
        ok = counter(text, "grpc_server_handled_total", grpc_service=g["service"], grpc_code="OK")
        not_found = counter(text, "grpc_server_handled_total", grpc_service=g["service"], grpc_code="NOT_FOUND")
        n = len(g["entities"])
        expect(ok >= 2 * n and not_found >= n,
               f"{app} counts {ok} OK and {not_found} NOT_FOUND RPCs in grpc_server_handled_total, expected at least {2 * n} and {n}")
    return f"{len(served)} gRPC servers SERVING; rows made over gRPC read back over HTTP: {', '.join(done)}"


def same_value(sent: Any, read: Any) -> bool:
    """A value as sent and as the API reads it back (decimals may be written another way)."""
    if sent == read:
        return True
    try:
        return isinstance(sent, str) and float(sent) == float(read)
    except (TypeError, ValueError):
        return False


def logs_correlated(w: World) -> str:
    """Every log line written while serving a request carries its request, trace and span ids."""
    import json as jsonlib

    in_requests = 0
    for app in w.stack.apps.values():
        records = []
        for line in app.proc.log.read_text(errors="replace").splitlines():
            try:
                records.append(jsonlib.loads(line))
            except ValueError:
                continue
        expect(records, f"{app.name} wrote no JSON log lines")
        during = [r for r in records if r.get("request_id")]
        missing = [r for r in during if not (r.get("trace_id") and r.get("span_id"))]
        expect(not missing, f"{app.name}: log lines of a request without trace/span ids: {missing[:2]}")
        in_requests += len(during)
    expect(in_requests > 0, "no log line was written while serving a request (nothing to correlate)")
    return f"{in_requests} request log lines, each with request, trace and span ids"


def broker_outage(w: World) -> str:
    """The broker goes away mid-run and comes back: no exit, not ready meanwhile, ready after."""
    if not w.stack.broker_names():
        return "no broker in this system"
    users = [a for a in w.stack.apps if uses_broker(w, a)]
    w.stack.stop_broker()
    try:
        for app in users:
            ok = wait_for(lambda: w.ready(app)[0] == 503, 30, interval=0.5)
            status, body = w.ready(app)
            expect(ok and body.get("checks", {}).get("broker", "ok") != "ok",
                   f"{app} with the broker down: /readyz → {status} {body}, expected 503 naming the broker")
            expect(w.stack.apps[app].proc.running(), f"{app} exited when the broker went down")
    finally:
        w.stack.start_broker()
    for app in users:
        ok = wait_for(lambda: w.ready(app)[0] == 200, 90, interval=1)
        expect(ok, f"{app} did not become ready after the broker came back: {w.ready(app)}")
    return f"{', '.join(users)}: not ready naming the broker while down, ready again without restart"


# -- events (PRODUCT §11.4) -------------------------------------------------------------------


@dataclass
class Flow:
    """One topic: the entity whose creation publishes it, the app and database of its publisher,
    and the apps consuming it."""

    topic: str
    entity: str
    app: str
    db: str
    consumers: list[str]


def app_of(w: World, service: str) -> str:
    """The workload running a blueprint service (a monolith: its one app)."""
    if service in w.stack.apps:
        return service
    return next(iter(w.stack.apps))


def flows(w: World) -> list[Flow]:
    mq = w.model.get("messaging") or {}
    out = []
    for topic in mq.get("topics", []):
        name = topic["name"]["raw"]
        entity = next((e for e in w.model["entities"] if name in [t["raw"] for t in e["code"]["publishes"]]
                       and e["name"]["raw"] in w.resources), None)
        consumers = sorted({app_of(w, c) for c in topic["consumers"] if w.service(c).get("generated")})
        if entity is None or not consumers:
            continue
        db = next(d for d in w.model["databases"] if d["name"]["raw"] == entity["database"])
        app = w.app_for(entity["name"]["raw"])
        out.append(Flow(name, entity["name"]["raw"], app, db["db_name"], consumers))
    return out


def outbox_events(w: World, f: Flow, key: str) -> list[str]:
    """Event ids the publisher wrote for the row `key` on this topic (MySQL keeps them as 32 hex digits)."""
    out = w.stack.db(f.db).psql(
        f"SELECT event_id FROM outbox WHERE topic = '{f.topic}' AND aggregate_key = '{key}' ORDER BY id", db=f.db)
    return [str(uuid.UUID(x)) for x in out.split()]


def event_id_literal(w: World, db: str, event_id: str) -> str:
    """An event id as its database stores it."""
    return uuid.UUID(event_id).hex if w.stack.db(db).kind == "mysql" else event_id


def unsent(w: World, dbs: set[str]) -> int:
    return sum(int(w.stack.db(db).psql("SELECT count(*) FROM outbox WHERE sent_at IS NULL", db=db)) for db in dbs)


def handled_times(w: World, app: str, topic: str, event_id: str) -> int:
    """How often `app`'s handler of `topic` ran for this event (each run logs it once)."""
    text = w.stack.apps[app].proc.log.read_text(errors="replace")
    return text.count(f"{topic} received: {event_id}")


def publish_some(w: World, f: Flow, n: int) -> list[str]:
    """Create n rows of the publishing entity; their event ids on f.topic."""
    ids = []
    for _ in range(n):
        row = w.create(f.entity)
        events = outbox_events(w, f, str(row["id"]))
        expect(len(events) == 1, f"{f.app}: creating {f.entity} {row['id']} wrote {len(events)} {f.topic} events to its outbox, expected 1")
        ids += events
    return ids


def await_handled_once(w: World, f: Flow, ids: list[str], timeout: float = 90) -> None:
    """Every consumer of the topic handles each event; none twice."""
    for app in f.consumers:
        ok = wait_for(lambda: all(handled_times(w, app, f.topic, i) >= 1 for i in ids), timeout, interval=0.5)
        missing = [i for i in ids if handled_times(w, app, f.topic, i) == 0]
        expect(ok, f"{app} never handled {len(missing)} of {len(ids)} {f.topic} events: {missing[:3]}")
        twice = [i for i in ids if handled_times(w, app, f.topic, i) > 1]
        expect(not twice, f"{app} handled {f.topic} events more than once: {twice[:3]}")


def events_once(w: World) -> str:
    """An event of every publisher reaches every consumer of its topic exactly once."""
    out = []
    for f in flows(w):
        ids = publish_some(w, f, 2)
        await_handled_once(w, f, ids)
        out.append(f"{f.topic}: {f.app} → {', '.join(f.consumers)}")
    return "; ".join(out) or "no topic with a generated publisher and consumer"


def consumed_total(w: World, app: str, topic: str, outcome: str) -> float:
    return counter(w.metrics(app), "events_consumed_total", topic=topic, outcome=outcome)


def events_outage(w: World) -> str:
    """Broker down: writes still succeed, their events wait in the outbox (backlog metric up) and
    all arrive once after the broker returns."""
    fs = flows(w)
    if not fs or not w.stack.broker_names():
        return "no events through a broker"
    dbs = {f.db for f in fs}
    ids: dict[str, list[str]] = {}
    pairs = sorted({(f.topic, a) for f in fs for a in f.consumers})
    outcomes = ("handled", "duplicate", "dead_lettered")

    def totals() -> dict[str, float]:
        return {o: sum(consumed_total(w, a, t, o) for t, a in pairs) for o in outcomes}

    before = totals()
    rows_before = {f.entity: rows(w, f.entity) for f in fs}
    w.stack.cut_broker()
    try:
        for f in fs:
            ids[f.topic] = publish_some(w, f, 3)
            expect(rows(w, f.entity) == rows_before[f.entity] + 3, f"{f.entity}: expected 3 new rows while the broker is down")
        waiting = unsent(w, dbs)
        relayed_elsewhere = all(f.topic in in_process_topics(w, f.app) for f in fs)
        if not relayed_elsewhere:
            expect(waiting > 0, "the broker is down but no event waits in an outbox")
            apps = {f.app for f in fs if f.topic not in in_process_topics(w, f.app)}
            ok = wait_for(lambda: all(gauge(w.metrics(a), "events_outbox_backlog") > 0 for a in apps), 20, interval=0.5)
            expect(ok, f"events_outbox_backlog stays 0 at {sorted(apps)} with {waiting} events waiting")
    finally:
        w.stack.restore_broker()
    back = time.monotonic()
    ok = wait_for(lambda: unsent(w, dbs) == 0, 120, interval=0.25)
    drained = time.monotonic() - back
    expect(ok, f"{unsent(w, dbs)} events still in the outbox 120 s after the broker returned")
    for f in fs:
        await_handled_once(w, f, ids[f.topic])
    after = totals()
    delta = {o: after[o] - before[o] for o in outcomes}
    tracked = sum(len(ids[f.topic]) * len(f.consumers) for f in fs)
    expect(delta["dead_lettered"] == 0, f"{delta['dead_lettered']:.0f} events dead-lettered during the outage")
    return (f"{sum(len(v) for v in ids.values())} tracked events written while the broker was down ({waiting} events "
            f"in the outboxes at that point, counting referenced rows' events and not in-process ones), handled {delta['handled']:.0f} times by consumers ({tracked} tracked deliveries, "
            f"each exactly once), {delta['duplicate']:.0f} redeliveries absorbed as duplicates, "
            f"{delta['dead_lettered']:.0f} dead-lettered; outbox empty {drained:.1f}s after the broker returned")


def in_process_topics(w: World, app: str) -> set[str]:
    svc = next((s for s in w.model.get("deployables", []) if s["name"]["raw"] == app), None)
    if svc is None or not svc.get("modules"):
        return set()
    return {t["raw"] for t in svc["events"]["in_process"]}


def gauge(text: str, metric: str) -> float:
    for line in text.splitlines():
        if line.startswith(metric + " ") or line.startswith(metric + "{"):
            return float(line.rpartition(" ")[2])
    return 0.0


def events_redelivered(w: World) -> str:
    """The relay sends an already-sent event again (as after a crash before marking it sent):
    every consumer counts a duplicate, and no handler runs a second time."""
    out = []
    for f in flows(w):
        [event_id] = publish_some(w, f, 1)
        await_handled_once(w, f, [event_id])
        before = {a: consumed_total(w, a, f.topic, "duplicate") for a in f.consumers}
        stored = event_id_literal(w, f.db, event_id)
        w.stack.db(f.db).psql(f"UPDATE outbox SET sent_at = NULL WHERE event_id = '{stored}'", db=f.db)
        for a in f.consumers:
            ok = wait_for(lambda: consumed_total(w, a, f.topic, "duplicate") >= before[a] + 1, 60, interval=0.5)
            expect(ok, f"{a}: the redelivered {f.topic} event {event_id} was not seen as a duplicate "
                       f"(handled {handled_times(w, a, f.topic, event_id)} times)")
            times = handled_times(w, a, f.topic, event_id)
            expect(times == 1, f"{a}: the redelivered {f.topic} event {event_id} was handled {times} times")
        out.append(f"{f.topic}: {len(f.consumers)} consumers ignored the redelivery")
    return "; ".join(out) or "no topic with a generated publisher and consumer"


def events_poison(w: World) -> str:
    """A message that is not an event goes to the dead letters; the next one is handled."""
    out = []
    for f in flows(w):
        before = {a: consumed_total(w, a, f.topic, "dead_lettered") for a in f.consumers}
        server = w.stack.db(f.db)
        new_id = "REPLACE(UUID(), '-', '')" if server.kind == "mysql" else "gen_random_uuid()"
        server.psql(
            "INSERT INTO outbox (event_id, topic, aggregate_key, payload) "
            f"VALUES ({new_id}, '{f.topic}', 'poison', '{{not json')", db=f.db)
        ids = publish_some(w, f, 1)
        await_handled_once(w, f, ids)
        for a in f.consumers:
            ok = wait_for(lambda: consumed_total(w, a, f.topic, "dead_lettered") >= before[a] + 1, 30, interval=0.5)
            expect(ok, f"{a}: the poison message on {f.topic} was not dead-lettered")
        where = dead_letters_seen(w, f)
        out.append(f"{f.topic}: poison dead-lettered at {', '.join(f.consumers)}{where}, next event handled")
    return "; ".join(out) or "no topic with a generated publisher and consumer"


def dead_letters_seen(w: World, f: Flow) -> str:
    """Read the dead letters back from the broker (the poison body with its error header)."""
    if w.stack.aws is not None:
        return sqs_dead_letters_seen(w, f)
    if w.stack.rabbit is not None:
        return rabbit_dead_letters_seen(w, f)
    if w.stack.kafka is None:
        return ""
    import asyncio

    from aiokafka import AIOKafkaConsumer

    async def read() -> list:
        consumer = AIOKafkaConsumer(f"{f.topic}.dlq", bootstrap_servers=f"127.0.0.1:{w.stack.kafka.port}",
                                    auto_offset_reset="earliest", enable_auto_commit=False)
        await consumer.start()
        try:
            batch = await consumer.getmany(timeout_ms=5000)
            return [m for msgs in batch.values() for m in msgs]
        finally:
            await consumer.stop()

    found = [m for m in asyncio.run(read()) if m.value == b"{not json"]
    expect(found, f"no poison message in the Kafka topic {f.topic}.dlq")
    headers = dict(found[0].headers or [])
    expect("error" in headers and "attempts" in headers, f"dead letter without error/attempts headers: {headers}")
    return f" (in {f.topic}.dlq: {headers['error'].decode()[:40]!r})"


def rabbit_dead_letters_seen(w: World, f: Flow) -> str:
    """Each consumer's dead-letter queue of the topic (`<group>.<topic>.dlq`, bound to `events.dlx`)
    holds the poison body with its error and attempts headers; read without taking it (requeued)."""
    import asyncio

    import aio_pika

    async def read(queue_name: str) -> list:
        connection = await aio_pika.connect(f"amqp://guest:guest@127.0.0.1:{w.stack.rabbit.port}/")
        try:
            channel = await connection.channel()
            queue = await channel.get_queue(queue_name, ensure=True)
            seen = []
            while (message := await queue.get(no_ack=False, fail=False)) is not None:
                seen.append((message.body, dict(message.headers or {})))
            await channel.close()  # every message taken is requeued
            return seen
        finally:
            await connection.close()

    out = []
    for app in f.consumers:
        if f.topic in in_process_topics(w, app):
            continue  # a monolith's own topic: its dead letters have no queue of a consumer group
        name = f"{app}.{f.topic}.dlq"
        found = [h for body, h in asyncio.run(read(name)) if body == b"{not json"]
        expect(found, f"{app}: no poison message in its dead-letter queue {name}")
        expect("error" in found[0] and "attempts" in found[0], f"{app}: dead letter without error/attempts headers: {found[0]}")
        out.append(f"{name}: {str(found[0]['error'])[:40]!r}")
    return f" (in {'; '.join(out)})" if out else ""


def sqs_dead_letters_seen(w: World, f: Flow) -> str:
    """Each consumer's dead-letter queue of the topic (named by the variable its environment
    sets) holds the poison body, with the error and the attempt count as message attributes."""
    import boto3

    url = f"http://127.0.0.1:{w.stack.aws.port}"
    sqs = boto3.client("sqs", endpoint_url=url, region_name=w.model["cloud"]["region"],
                       aws_access_key_id="local", aws_secret_access_key="local")
    seen = []
    for app in f.consumers:
        svc = next(d for d in w.model["deployables"] if d["name"]["kebab"] == app)
        var = next(n["env_var"] for n in svc["events"]["sqs_dead_letter_queues"] if n["topic"] == f.topic)
        name = w.stack.apps[app].env[var]
        queue = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        found = []
        for _ in range(5):
            reply = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                        WaitTimeSeconds=1)
            found += [m for m in reply.get("Messages", []) if m["Body"] == "{not json"]
            if found:
                break
        expect(found, f"{app}: no poison message in its dead-letter queue {name}")
        attrs = found[0].get("MessageAttributes") or {}
        expect("error" in attrs and "attempts" in attrs, f"{app}: dead letter without error/attempts attributes: {attrs}")
        seen.append(f"{name}: {attrs['error']['StringValue'][:40]!r}")
    return f" (in {'; '.join(seen)})"


def events_metrics(w: World) -> str:
    """Publishers export the outbox backlog and publish counters; consumers their outcomes."""
    fs = flows(w)
    for f in fs:
        text = w.metrics(f.app)
        expect("events_outbox_backlog " in text, f"{f.app} exports no events_outbox_backlog")
        expect(counter(text, "events_published_total", topic=f.topic) > 0 or f.topic in in_process_topics(w, f.app),
               f"{f.app}: events_published_total{{topic={f.topic}}} is 0")
        for a in f.consumers:
            expect(consumed_total(w, a, f.topic, "handled") > 0, f"{a}: events_consumed_total handled is 0 for {f.topic}")
    return f"{len(fs)} topics: backlog, published and consumed counters exported" if fs else "no events"


def e2e_suite(w: World) -> str:
    gw = w.stack.gateway
    if gw is None:
        return "no gateway"
    suite = w.stack.root / "tests" / "e2e"
    out = subprocess.run(
        [str(w.stack.venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", str(suite)],
        env={"PATH": "/usr/bin:/bin", "E2E_GATEWAY_URL": f"http://127.0.0.1:{gw.port}",
             "E2E_TOKEN_URL": f"{w.stack.issuer.url}/token" if w.stack.issuer else ""},
        capture_output=True, text=True, timeout=300,
    )
    last = (out.stdout.strip().splitlines() or [""])[-1]
    expect(out.returncode == 0, f"tests/e2e: exit {out.returncode}: {out.stdout[-1500:]}")
    expect("skipped" not in last, f"tests/e2e skipped tests: {last}")
    return last


def load_run(w: World) -> str:
    gw = w.stack.gateway
    if gw is None:
        return "no gateway"
    locustfile = w.stack.root / "tests" / "load" / "locustfile.py"
    csv = w.stack.run / "locust"
    out = subprocess.run(
        [str(w.stack.venv / "bin" / "locust"), "-f", str(locustfile), "--headless", "-u", "8", "-r", "4",
         "-t", "6s", "--host", f"http://127.0.0.1:{gw.port}", "--csv", str(csv), "--only-summary",
         "--stop-timeout", "5"],
        env={"PATH": f"{w.stack.venv / 'bin'}:/usr/bin:/bin", "HOME": str(w.stack.run),
             "LOAD_TOKEN_URL": f"{w.stack.issuer.url}/token" if w.stack.issuer else ""},
        capture_output=True, text=True, timeout=120,
    )
    import csv as csvlib

    stats = list(csvlib.DictReader(open(str(csv) + "_stats.csv")))
    total = next(r for r in stats if r["Name"] == "Aggregated")
    requests, failures = int(total["Request Count"]), int(total["Failure Count"])
    p95 = total.get("95%", "?")
    names = [r["Name"] for r in stats if r["Name"] != "Aggregated"]
    expect(requests > 0, f"locust sent no request: {out.stderr[-800:]}")
    expect(not any("built-in" in n for n in names), f"locust request names are not route templates: {names}")
    expect(failures == 0, f"locust: {failures} of {requests} requests failed: {out.stderr[-800:]}")
    return f"{requests} requests, {failures} failures, p95 {p95} ms"


def security(name: str) -> Callable[[World], str]:
    """A check of auth_checks.py (it imports this module, so it is loaded when first run)."""

    def run(w: World) -> str:
        import auth_checks

        return getattr(auth_checks, name)(w)

    return run


# The start-up sequence: always run, whatever --only selects.
ALWAYS = ("services-live", "starts-without-broker", "ready-when-broker-appears")

CHECKS: list[tuple[str, Callable[[World], str]]] = [
    ("migrations-applied", migrations_applied),
    ("services-live", services_live),
    ("starts-without-broker", starts_without_broker),
    ("ready-when-broker-appears", readiness),
    ("gateway-routes", gateway_routes),
    ("crud-through-gateway", crud),
    ("depends-on-verified", references_verified),
    ("dependency-down-503", dependency_down),
    ("cache-aside", cache_aside),
    ("input-rejected", input_rejected),
    ("keyset-pagination", pagination),
    ("duplicate-409", conflict_409),
    ("statement-timeout-503", statement_timeout),
    ("schema-behind-unready", schema_behind),
    ("request-id-propagated", request_id_propagated),
    ("database-down", database_down),
    ("metrics-route-templates", metrics_templates),
    ("grpc-served", grpc_served),
    ("logs-trace-ids", logs_correlated),
    ("events-delivered-once", events_once),
    ("events-broker-outage", events_outage),
    ("events-redelivered", events_redelivered),
    ("events-poison", events_poison),
    ("events-metrics", events_metrics),
    # After the event checks: it restarts the broker, and tansu's memory storage comes back
    # without topics and offsets (a real Kafka keeps both), so consumers that resume at their
    # last offset would skip the first messages of the recreated topics.
    ("broker-outage", broker_outage),
    ("auth-anonymous-401", security("anonymous")),
    ("auth-role-403", security("roles")),
    ("auth-owner-403", security("owners")),
    ("cors-preflight", security("cors")),
    ("e2e-suite", e2e_suite),
    ("load-run", load_run),
    # Last: it spends the burst of a client address of its own, but loads the services.
    ("rate-limit-429", security("rate_limit")),
]


def refs_for_names(self: World, entity: str) -> set[str]:
    return {c["name"] for c in self.entity(entity)["columns"] if c.get("reference")}


World.refs_for_names = refs_for_names  # type: ignore[attr-defined]

__all__ = ["CHECKS", "World", "Failed", "sys"]
