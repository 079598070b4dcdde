"""The security checks of the system test (PRODUCT §13): tokens from the compose file's
development issuer, access rules per route, rows owned by users, the edge's rate limit and CORS.

Requests here carry their own `Authorization` (or none): the World's client sends an admin's.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from checks import Failed, World, expect


def entity_auth(w: World, entity: str) -> dict:
    return w.entity(entity)["code"]["auth"]


def through_gateway(w: World) -> list[str]:
    """Entities whose collection the gateway serves, in name order."""
    gw = w.stack.gateway
    return sorted(e for e in w.resources if gw and w.base(e).endswith(f":{gw.port}"))


def call(w: World, method: str, url: str, token: str | None = None, **kwargs) -> httpx.Response:
    headers = {"Authorization": token} if token else {}
    headers |= kwargs.pop("headers", {})
    return httpx.request(method, url, headers=headers, timeout=15, **kwargs)


def anonymous(w: World) -> str:
    """No token: 401 on every route that is not public, 200 on public reads."""
    if w.stack.issuer is None:
        raise Failed("the compose file runs no development issuer")
    refused, public = [], []
    for entity in through_gateway(w):
        rule = entity_auth(w, entity)["read"]["kind"]
        r = call(w, "GET", w.url(entity), params={"limit": 1})
        path = w.resources[entity].path
        if rule == "public":
            expect(r.status_code == 200, f"anonymous GET {path} (public) → {r.status_code} {r.text[:200]}")
            public.append(path)
        else:
            expect(r.status_code == 401, f"anonymous GET {path} ({rule}) → {r.status_code} {r.text[:200]}, expected 401")
            refused.append(path)
        w_rule = entity_auth(w, entity)["write"]["kind"]
        if w_rule != "public":
            r = call(w, "POST", w.url(entity), json=w.create_body(entity))
            expect(r.status_code == 401, f"anonymous POST {path} → {r.status_code} {r.text[:200]}, expected 401")
    expect(refused, "no route through the gateway needs a token")
    forged = "Bearer " + ".".join(["eyJhbGciOiJSUzI1NiJ9", "eyJzdWIiOiJ4In0", "c2ln"])
    r = call(w, "GET", w.url(next(e for e in through_gateway(w) if w.resources[e].path in refused)), forged)
    expect(r.status_code == 401, f"a forged token → {r.status_code}, expected 401")
    return f"401 on {', '.join(refused)}; 200 on {', '.join(public) or 'no public route'}"


def roles(w: World) -> str:
    """A plain user's token on a route that needs a role → 403; the role's holder → 201."""
    out = []
    for entity in through_gateway(w):
        write = entity_auth(w, entity)["write"]
        if write["kind"] != "role":
            continue
        path = w.resources[entity].path
        r = call(w, "POST", w.url(entity), w.bearer(), json=w.create_body(entity))
        expect(r.status_code == 403, f"a user's POST {path} (role {write['role']}) → {r.status_code} {r.text[:200]}, expected 403")
        holder = w.bearer(None, (write["role"],))
        r = call(w, "POST", w.url(entity), holder, json=w.create_body(entity))
        expect(r.status_code == 201, f"POST {path} with role {write['role']} → {r.status_code} {r.text[:200]}, expected 201")
        out.append(f"{path}: user 403, {write['role']} 201")
    return "; ".join(out) or "no route needs a role"


def owned_row(w: World, entity: str) -> tuple[dict, str]:
    """A row created by an admin, and the subject of the user it belongs to."""
    column = entity_auth(w, entity)["owner_column"]
    row = w.create(entity)
    return row, str(row[column])


def owners(w: World) -> str:
    """A user reads their own row (200), not another user's (403, and not in their list); an
    admin reads both (200). A user creates rows for themselves only, and the owner's service
    confirms the reference with the user's own token (propagated on the depends_on call)."""
    out = []
    for entity in through_gateway(w):
        auth = entity_auth(w, entity)
        if not auth["owner_column"]:
            continue
        path = w.resources[entity].path
        row, owner = owned_row(w, entity)
        key = row[w.entity(entity)["pk"]]
        mine, stranger = w.bearer(owner), w.bearer(str(uuid.uuid4()))
        r = call(w, "GET", w.url(entity, f"/{key}"), mine)
        expect(r.status_code == 200, f"the owner's GET {path}/{key} → {r.status_code} {r.text[:200]}")
        r = call(w, "GET", w.url(entity, f"/{key}"), stranger)
        expect(r.status_code == 403, f"another user's GET {path}/{key} → {r.status_code} {r.text[:200]}, expected 403")
        r = call(w, "DELETE", w.url(entity, f"/{key}"), stranger)
        expect(r.status_code == 403, f"another user's DELETE {path}/{key} → {r.status_code}, expected 403")
        r = call(w, "GET", w.url(entity), stranger, params={"limit": 200})
        expect(r.status_code == 200 and all(i.get(w.entity(entity)["pk"]) != key for i in r.json()["items"]),
               f"another user's list of {path} → {r.status_code}, shows the row or fails")
        r = w.http.get(w.url(entity, f"/{key}"))
        expect(r.status_code == 200, f"an admin's GET {path}/{key} → {r.status_code}")
        column = auth["owner_column"]
        if column != w.entity(entity)["pk"] and auth["write"]["kind"] == "user":
            body = w.create_body(entity) | {column: owner}
            r = call(w, "POST", w.url(entity), stranger, json=body)
            expect(r.status_code == 403, f"a user's POST {path} for another user → {r.status_code} {r.text[:200]}, expected 403")
            r = call(w, "POST", w.url(entity), mine, json=body)
            expect(r.status_code == 201, f"the owner's own POST {path} → {r.status_code} {r.text[:200]}, expected 201")
        out.append(f"{path}: owner 200, other user 403, admin 200")
    return "; ".join(out) or "no entity has an owner"


def rate_limit(w: World) -> str:
    """Past the preset's burst, one client gets 429 at the gateway; the burst itself passes.

    The requests come from a loopback address of their own (a client of their own) and go to a
    path no route serves: nginx applies the server's per-client limit before answering it (404)
    itself, so the flood measures the limit, not how fast the services answer on a loaded
    machine. Every tenth request of the flood asks an API route instead: the same limit refuses
    some of those too. (Asked after the flood, an API request may find a slot already refilled
    on a loaded machine: the limit refills one request every 1/rps seconds.)
    """
    gw = w.stack.gateway
    if gw is None:
        return "no gateway"
    limit = w.model["security"]["rate_limit"]
    base = f"http://127.0.0.1:{gw.port}"
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    entity = through_gateway(w)[0]
    api_url = w.url(entity) + "?limit=1"
    statuses: list[int] = []
    api: list[int] = []
    with httpx.Client(transport=transport, timeout=15) as client:
        def one(i: int) -> tuple[bool, int]:
            to_api = i % 10 == 5
            return to_api, client.get(api_url if to_api else base + "/no-route-here").status_code

        attempts = limit["burst"] + 20 * limit["rps"]
        with ThreadPoolExecutor(16) as pool:
            for to_api, status in pool.map(one, range(attempts)):
                (api if to_api else statuses).append(status)
    everything = statuses + api
    expect(429 in everything, f"{len(everything)} requests from one client, none answered 429 (preset {limit['rps']}/s, burst {limit['burst']})")
    passed = len([s for s in everything if s != 429])
    expect(passed >= limit["burst"], f"only {passed} requests passed before the limit, the preset's burst is {limit['burst']}")
    expect(429 in api, f"{len(api)} requests to {w.resources[entity].path} during the flood, none answered 429: {sorted(set(api))}")
    return (f"{everything.count(429)} of {len(everything)} answered 429 (preset {limit['rps']}/s, burst {limit['burst']}); "
            f"{passed} passed; {api.count(429)} of {len(api)} to the API route during the flood 429")


def cors(w: World) -> str:
    """A preflight from an allowed origin is answered with it; from another origin, refused.
    Answers carry the security headers."""
    origins = w.model["security"]["cors"]["origins"]
    if not origins:
        return "no ingress.cors origins"
    entity = through_gateway(w)[0]
    url = w.url(entity)
    ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
    r = call(w, "OPTIONS", url, headers={"Origin": origins[0]} | ask)
    expect(r.status_code == 200 and r.headers.get("access-control-allow-origin") == origins[0],
           f"preflight from {origins[0]} → {r.status_code} {dict(r.headers)}")
    evil = "https://evil.invalid"
    r = call(w, "OPTIONS", url, headers={"Origin": evil} | ask)
    expect(r.status_code >= 400 and "access-control-allow-origin" not in r.headers,
           f"preflight from {evil} → {r.status_code} allow-origin={r.headers.get('access-control-allow-origin')}, expected a refusal")
    r = w.http.get(url, params={"limit": 1})
    expect(r.headers.get("x-content-type-options") == "nosniff" and r.headers.get("x-frame-options") == "DENY",
           f"GET {w.resources[entity].path}: security headers missing: {dict(r.headers)}")
    return f"{origins[0]} allowed, {evil} refused; security headers present"

