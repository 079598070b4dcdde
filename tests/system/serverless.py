"""Serverless system test: the generated functions run with exactly their Terraform environment.

AWS is moto's server on loopback; the data store is a local PostgreSQL with TLS standing in for the
RDS Proxy (it trusts every loopback login, so the IAM token the code makes is accepted as is). Names
come from the generated Terraform: the bus, one rule per topic, one queue and dead-letter queue per
consuming function, the routes of the HTTP API and each function's environment. Each function runs
in a process of its own with that environment (values resolved: literals as written, the proxy
endpoint → the local server, the API endpoint → the local gateway below, the bus → its name) plus
the emulator endpoint and dummy credentials, and is invoked with API Gateway v2 and SQS events. A
small threaded HTTP server plays API Gateway for the calls functions make to each other. A Python
function runs in the venv from `functions/`; a TypeScript one (runtime nodejs*) runs its esbuild
bundle (`dist/lambda/<module>.mjs`, built here with the package's locked dependencies) under Node.js.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import threading
import time
import uuid
import shutil
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import backing
import payloads
from procs import Proc, Supervisor, free_port, port_open, wait_for

ENVIRONMENT = "dev"
REGION = "eu-west-1"

WORKER = r'''
import importlib, json, os, sys
# The protocol owns the real stdout; the function's own logging goes to stderr (the log file).
proto = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.path.insert(0, os.getcwd())
mod = importlib.import_module(sys.argv[1])


class Context:
    function_name = sys.argv[1]
    aws_request_id = "system-test"
    memory_limit_in_mb = 512

    def get_remaining_time_in_millis(self):
        return 10_000


for line in sys.stdin:
    event = json.loads(line)
    try:
        out = {"openapi": mod.app.openapi()} if event == "openapi" else {"ok": mod.handler(event, Context())}
    except Exception as exc:  # the harness reports it
        out = {"error": repr(exc)}
    proto.write(json.dumps(out, default=str) + "\n")
    proto.flush()
'''


# A TypeScript function's bundle, invoked one event a line; answers go to the file descriptor given,
# so that the function's own logging (stdout) goes to its log file.
NODE_WORKER = r'''
import { writeSync } from "node:fs";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
const [bundle, fd] = process.argv.slice(1);
const mod = await import(pathToFileURL(bundle).href);
const context = { functionName: bundle, awsRequestId: "system-test", getRemainingTimeInMillis: () => 10000 };
for await (const line of createInterface({ input: process.stdin })) {
  let out;
  try {
    out = { ok: await mod.handler(JSON.parse(line), context) };
  } catch (err) {
    out = { error: String(err) };
  }
  writeSync(Number(fd), JSON.stringify(out) + "\n");
}
'''
NODE_CACHE = Path.home() / ".cache" / "codex-system-design" / "node-modules"


def node_modules(package: Path) -> Path:
    """node_modules for a package's lockfile (its own name left out), installed once and shared."""
    lock = json.loads((package / "package-lock.json").read_text())
    lock.pop("name", None)
    lock.get("packages", {}).get("", {}).pop("name", None)
    target = NODE_CACHE / hashlib.sha256(json.dumps(lock, sort_keys=True).encode()).hexdigest()[:16]
    if not (target / ".complete").exists():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(package / name, target)
        subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=target, check=True,
                       capture_output=True, timeout=900)
        (target / ".complete").touch()
    return target / "node_modules"


def bundle(package: Path) -> None:
    """The package's bundles, as CI builds them (scripts/bundle.mjs)."""
    link = package / "node_modules"
    if not link.exists():
        link.symlink_to(node_modules(package))
    subprocess.run(["node", "scripts/bundle.mjs"], cwd=package, check=True, capture_output=True, timeout=300)


# ------------------------------------------------------------------ the generated Terraform


def blocks(text: str, kind: str) -> dict[str, str]:
    """Top-level `<kind> "label" {…}` blocks by label (for resources: the second label)."""
    out = {}
    for m in re.finditer(rf'^{kind} ((?:"[^"]+" )+)\{{\n(.*?)^\}}', text, re.M | re.S):
        out[re.findall(r'"([^"]+)"', m.group(1))[-1]] = m.group(2)
    return out


def attr(body: str, name: str) -> str:
    m = re.search(rf"^\s*{name}\s*=\s*(.+)$", body, re.M)
    return m.group(1).strip() if m else ""


@dataclass
class Function:
    name: str  # module label without function_
    handler: str
    env: list[tuple[str, str]]  # name, Terraform expression
    runtime: str = "python3.12"
    queue: str | None = None  # queue name when triggered by one
    routes: list[str] = field(default_factory=list)  # the path prefixes of its `ANY` routes


@dataclass
class Route:
    method: str  # ANY, GET, POST, …
    path: str  # as API Gateway reads it: `{id}` one segment, `{proxy+}` the rest
    authorization: str  # JWT or NONE
    function: str

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("ANY", method):
            return False
        want, got = self.path.strip("/").split("/"), path.strip("/").split("/")
        greedy = want[-1] == "{proxy+}"
        fixed = want[:-1] if greedy else want
        if len(got) < len(fixed) + greedy or (not greedy and len(got) != len(fixed)):
            return False
        return all(w == g or w.startswith("{") for w, g in zip(fixed, got))

    def rank(self) -> tuple[int, int, int]:
        """API Gateway's preference: no greedy variable, then a method, then the longer path."""
        return ("{proxy+}" not in self.path, self.method != "ANY", len(self.path))


@dataclass
class Table:
    """An `aws_dynamodb_table` as the Terraform declares it."""

    name: str
    hash_key: str
    attributes: dict[str, str]  # name → S, N or B
    indexes: list[tuple[str, str, str]]  # (name, hash key, range key)


def dynamodb_tables(main: str, expand: Any) -> dict[str, Table]:
    out = {}
    for m in re.finditer(r'^resource "aws_dynamodb_table" "(\w+)" \{\n(.*?)^\}', main, re.M | re.S):
        body = m.group(2)
        attributes = dict(re.findall(r'attribute \{\s*name = "([^"]+)"\s*type = "([SNB])"', body))
        indexes = re.findall(r'global_secondary_index \{\s*name\s*= "([^"]+)"\s*hash_key\s*= "([^"]+)"\s*'
                             r'range_key\s*= "([^"]+)"', body)
        out[m.group(1)] = Table(expand(attr(body, "name")), json.loads(attr(body, "hash_key")), attributes, indexes)
    return out


@dataclass
class Deployment:
    prefix: str
    bus: str
    rules: dict[str, str]  # rule label → detail-type
    queues: dict[str, tuple[str, str, int]]  # function label → (queue, rule label, max receives)
    functions: dict[str, Function]
    databases: dict[str, tuple[str, str, str]]  # module label → (folder, db name, user)
    routes: list[Route] = field(default_factory=list)
    tables: dict[str, Table] = field(default_factory=dict)  # resource label → table


def read_terraform(root: Path) -> Deployment:
    tf = root / "infra" / "terraform"
    main = (tf / "main.tf").read_text()
    name = re.search(r'variable "name" \{.*?default\s*=\s*"([^"]+)"', (tf / "variables.tf").read_text(), re.S)
    prefix = f"{name.group(1)}-{ENVIRONMENT}"
    expand = lambda s: json.loads(s).replace("${local.prefix}", prefix)  # noqa: E731
    max_receive = int(re.search(r'variable "max_receive_count" \{.*?default\s*=\s*(\d+)',
                                (tf / "modules" / "queue" / "variables.tf").read_text(), re.S).group(1))
    rules = {label: re.search(r'"detail-type" = \["([^"]+)"\]', body).group(1)
             for label, body in blocks(main, "resource").items() if "event_pattern" in body}
    modules = blocks(main, "module")
    queues, functions, databases = {}, {}, {}
    for label, body in modules.items():
        if label.startswith("queue_"):
            rule = re.search(r"aws_cloudwatch_event_rule\.(\w+)\.arn", body).group(1)
            queues[label.removeprefix("queue_")] = (expand(attr(body, "name")), rule, max_receive)
        elif label.startswith("database_"):
            folder = expand(attr(body, "identifier")).removeprefix(prefix + "-")
            databases[label] = (folder, json.loads(attr(body, "db_name")), json.loads(attr(body, "username")))
        elif label.startswith("function_"):
            fn = label.removeprefix("function_")
            env = re.findall(r'\{ name = "([^"]+)", value = (.+) \},', body)
            functions[fn] = Function(fn, json.loads(attr(body, "handler")), env, json.loads(attr(body, "runtime")))
    for fn, (queue, _, _) in queues.items():
        functions[fn].queue = queue
    routes = [Route(method, path, auth, fn) for method, path, auth, fn in re.findall(
        r'route_key = "(\w+) ([^"]+)", authorization = "(\w+)", function_name = module\.function_(\w+)\.', main)]
    for r in routes:
        if r.method == "ANY" and "{" not in r.path:
            functions[r.function].routes.append(r.path)
    return Deployment(prefix, prefix, rules, queues, functions, databases, routes, dynamodb_tables(main, expand))


# ------------------------------------------------------------------ processes


class Worker:
    """One function in its own process, invoked one event at a time: a Python module of
    `functions/` or, for a Node.js runtime, the bundle of a TypeScript service's package."""

    def __init__(self, fn: Function, cwd: Path, env: dict[str, str], log: Path, python: Path) -> None:
        self.fn = fn
        self.cwd = cwd
        self.lock = threading.Lock()
        self.log_path = log
        self.log = log.open("w")
        module = fn.handler.rsplit(".", 1)[0]
        if fn.runtime.startswith("nodejs"):
            read, write = os.pipe()
            self.proc = subprocess.Popen(
                ["node", "--input-type=module", "-e", NODE_WORKER, str(cwd / "dist" / "lambda" / f"{module}.mjs"),
                 str(write)], cwd=cwd, env=env, text=True, stdin=subprocess.PIPE, stdout=self.log, stderr=self.log,
                pass_fds=(write,))
            os.close(write)
            self.answers = os.fdopen(read)
        else:
            self.proc = subprocess.Popen([str(python), "-c", WORKER, module], cwd=cwd, env=env, text=True,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)
            self.answers = self.proc.stdout

    @property
    def node(self) -> bool:
        return self.fn.runtime.startswith("nodejs")

    def openapi(self) -> dict:
        """The contract of an HTTP function: the app's own (Python), the package's openapi.yaml
        (TypeScript: the same contract, generated from the same model)."""
        if self.node:
            import yaml

            return yaml.safe_load((self.cwd / "openapi.yaml").read_text())
        return self.invoke("openapi")["openapi"]

    def start_event(self) -> Any:
        """The first event of a cold start: the contract (Python builds its app for it), a request
        to /healthz (TypeScript builds its app on the first request), an empty batch (a queue)."""
        if not self.fn.routes:
            return {"Records": []}
        if self.node:
            return api_event("GET", "/healthz", "", {}, b"", None)
        return "openapi"

    def invoke(self, event: Any) -> dict:
        with self.lock:
            self.proc.stdin.write(json.dumps(event) + "\n")
            self.proc.stdin.flush()
            line = self.answers.readline()
        if not line:
            self.log.flush()
            tail = self.log_path.read_text().strip().splitlines()[-1:]
            raise RuntimeError(f"{self.fn.name} exited: {' '.join(tail)}")
        return json.loads(line)

    def stop(self) -> None:
        self.proc.stdin.close()
        if self.answers is not self.proc.stdout:
            self.answers.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def api_event(method: str, path: str, query: str, headers: dict[str, str], body: bytes, claims: dict | None) -> dict:
    """An HTTP API (payload 2.0) event; `claims` None is a route without the authorizer."""
    context = {"accountId": "123456789012", "apiId": "local", "domainName": "localhost",
               "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                        "sourceIp": "127.0.0.1", "userAgent": "system-test"},
               "requestId": uuid.uuid4().hex, "routeKey": f"ANY {path}", "stage": "$default",
               "timeEpoch": int(time.time() * 1000)}
    if claims is not None:
        # What the HTTP API's JWT authorizer passes on for a verified caller.
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return {
        "version": "2.0", "routeKey": f"ANY {path}", "rawPath": path, "rawQueryString": query,
        # API Gateway also hands over the parsed query (repeated names joined by commas).
        **({"queryStringParameters": {k: ",".join(v) for k, v in parse_qs(query).items()}} if query else {}),
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": context,
        "body": body.decode() if body else None, "isBase64Encoded": False,
    }


def select(routes: list[Route], method: str, path: str) -> Route | None:
    """The route API Gateway picks for a request: the most specific match."""
    found = sorted((r for r in routes if r.matches(method, path)), key=Route.rank, reverse=True)
    return found[0] if found else None


def gateway(workers: dict[str, Worker], routes: list[Route], claims: dict) -> ThreadingHTTPServer:
    """API Gateway's HTTP API for the local run: the generated routes, the most specific match first.
    On a `JWT` route it plays the authorizer: no bearer token is a 401 before any function runs,
    a token stands for `claims`, passed on in the event; a `NONE` route passes no claims."""

    def route(method: str, path: str) -> Route | None:
        return select(routes, method, path)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def serve(self) -> None:
            path, _, query = self.path.partition("?")
            matched = route(self.command, path)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            if matched is None:
                self.reply(404, b'{"message":"Not Found"}')
                return
            signed = (self.headers.get("authorization") or "").startswith("Bearer ")
            if matched.authorization == "JWT" and not signed:
                self.reply(401, b'{"message":"Unauthorized"}')
                return
            worker = workers[matched.function]
            passed = claims if matched.authorization == "JWT" else None
            result = worker.invoke(api_event(self.command, path, query, dict(self.headers), body, passed))
            response = result.get("ok") or {"statusCode": 502, "body": result.get("error", "")}
            body = response.get("body") or ""
            data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
            self.send_response(response["statusCode"])
            for k, v in (response.get("headers") or {}).items():
                if k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def reply(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = serve

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# ------------------------------------------------------------------ the run


class Run:
    """Everything started for one tree; `stop` ends it all by PID."""

    def __init__(self, root: Path, run: Path, python: Path, sup: Supervisor, model: dict) -> None:
        self.root, self.run, self.python, self.sup, self.model = root, run, python, sup, model
        self.dep = read_terraform(root)
        self.workers: dict[str, Worker] = {}
        self.server: ThreadingHTTPServer | None = None
        self.aws: Any = None

    def start(self) -> None:
        (self.run / "logs").mkdir(parents=True, exist_ok=True)
        # PostgreSQL only where the Terraform has Aurora clusters (a DynamoDB system has none).
        self.pg = backing.start_postgres(self.sup, self.run, tls=True) if self.dep.databases else None
        for folder, db, user in self.dep.databases.values():
            self.pg.psql(f'CREATE ROLE "{user}" LOGIN')
            self.pg.psql(f'CREATE DATABASE "{db}" OWNER "{user}"')
            url = f"postgres://{user}@127.0.0.1:{self.pg.port}/{db}?sslmode=require"
            subprocess.run([str(self.python.parent / "dbmate"), "--url", url, "--migrations-dir",
                            str(self.root / "migrations" / folder), "--no-dump-schema", "migrate"],
                           check=True, capture_output=True, timeout=60)
        self.moto_port = free_port()
        self.sup.start(Proc("moto", [str(self.python.parent / "moto_server"), "-H", "127.0.0.1", "-p",
                                     str(self.moto_port)], backing.base_env(), self.run,
                            self.run / "logs" / "moto.log"))
        if not wait_for(lambda: port_open(self.moto_port), 30):
            raise RuntimeError("moto_server did not start")
        self.aws = self.clients()
        self.create_resources()
        security = self.model["security"]
        # A verified admin, in the claim names the functions read (the authorizer's string form of a list).
        admin = {"sub": "system-test", security["roles_claim"]: f"[{' '.join(security['test_roles'])}]"}
        self.server = gateway(self.workers, self.dep.routes, admin)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        code = {f["name"]["snake"]: f["code_dir"] for f in self.model["functions"]}
        for folder in sorted({code[fn.name] for fn in self.dep.functions.values() if fn.runtime.startswith("nodejs")}):
            bundle(self.root / folder)
        for fn in self.dep.functions.values():
            self.workers[fn.name] = Worker(fn, self.root / code[fn.name], self.function_env(fn),
                                           self.run / "logs" / f"{fn.name}.log", self.python)

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
        for w in self.workers.values():
            w.stop()

    def aws_env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.moto_port}", "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}

    def clients(self) -> Any:
        import boto3

        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                        region_name=REGION)
        url = f"http://127.0.0.1:{self.moto_port}"
        return {k: session.client(k, endpoint_url=url) for k in ("events", "sqs", "dynamodb")}

    def value(self, expr: str) -> str:
        """The value of a Terraform expression of a function's environment, here."""
        if expr.startswith('"'):
            return json.loads(expr)
        if re.fullmatch(r"module\.database_\w+\.proxy_endpoint", expr):
            return "127.0.0.1"
        if re.fullmatch(r"tostring\(module\.database_\w+\.port\)", expr):
            return str(self.pg.port)
        if expr == "aws_cloudwatch_event_bus.events.name":
            return self.dep.bus
        if expr == "module.api.endpoint":
            return self.endpoint
        table = re.fullmatch(r"aws_dynamodb_table\.(\w+)\.name", expr)
        if table:
            return self.dep.tables[table.group(1)].name
        raise ValueError(f"no local value for {expr}")

    def function_env(self, fn: Function) -> dict[str, str]:
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", **self.aws_env()}
        env.update({name: self.value(expr) for name, expr in fn.env})
        if "DB_SSLROOTCERT" in env:
            # Re-pointed like a host name: the CA bundle of the Lambda runtime becomes the CA that
            # signed the local server's certificate, so verify-full is checked for real.
            env["DB_SSLROOTCERT"] = str(self.pg.ca_file)
        return env

    def create_tables(self) -> None:
        """Each DynamoDB table as the Terraform declares it: name, key, attributes, indexes."""
        for t in self.dep.tables.values():
            args: dict[str, Any] = {
                "TableName": t.name, "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [{"AttributeName": t.hash_key, "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": n, "AttributeType": ty} for n, ty in t.attributes.items()],
            }
            if t.indexes:
                args["GlobalSecondaryIndexes"] = [
                    {"IndexName": name, "Projection": {"ProjectionType": "ALL"},
                     "KeySchema": [{"AttributeName": hash_key, "KeyType": "HASH"},
                                   {"AttributeName": range_key, "KeyType": "RANGE"}]}
                    for name, hash_key, range_key in t.indexes]
            self.aws["dynamodb"].create_table(**args)

    def create_resources(self) -> None:
        self.create_tables()
        events, sqs = self.aws["events"], self.aws["sqs"]
        events.create_event_bus(Name=self.dep.bus)
        arns = {}
        for label, topic in self.dep.rules.items():
            arns[label] = events.put_rule(Name=f"{self.dep.prefix}-{label}", EventBusName=self.dep.bus,
                                          EventPattern=json.dumps({"detail-type": [topic]}))["RuleArn"]
        self.queue_urls: dict[str, tuple[str, str]] = {}
        for fn, (queue, rule, max_receive) in self.dep.queues.items():
            dlq = sqs.create_queue(QueueName=f"{queue}-dlq")["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            url = sqs.create_queue(QueueName=queue, Attributes={"RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive)})})["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            events.put_targets(Rule=f"{self.dep.prefix}-{rule}", EventBusName=self.dep.bus,
                               Targets=[{"Id": fn, "Arn": arn}])
            self.queue_urls[fn] = (url, dlq)


# ------------------------------------------------------------------ checks


def sqs_event(messages: list[dict]) -> dict:
    return {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                         "attributes": m.get("Attributes", {}), "messageAttributes": {}, "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:local", "awsRegion": REGION} for m in messages]}


class Checks:
    def __init__(self, run: Run, model: dict, label: str) -> None:
        self.r, self.model, self.label = run, model, label
        self.results: list[tuple[str, bool, str]] = []
        self.created: dict[str, Any] = {}

    def check(self, name: str, fn: Any) -> None:
        try:
            detail = fn()
            ok = True
        except Exception as exc:  # a failed check, reported
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        self.results.append((name, ok, detail))
        print(f"{'PASS' if ok else 'FAIL'} system {self.label} {name}: {detail}", flush=True)

    def cold_start(self) -> str:
        for w in self.r.workers.values():
            out = w.invoke(w.start_event())
            if "error" in out:
                raise AssertionError(f"{w.fn.name}: {out['error']}")
        return f"{len(self.r.workers)} functions started with exactly their Terraform environment"

    def http(self) -> Any:
        import httpx

        # Any bearer token: the local gateway stands for the authorizer (see `gateway`).
        return httpx.Client(base_url=self.r.endpoint, timeout=30, headers={"authorization": "Bearer system-test"})

    def resources(self) -> dict[str, payloads.Resource]:
        out = {}
        for w in self.r.workers.values():
            if w.fn.routes:
                spec = self.r.run / f"{w.fn.name}.openapi.json"
                spec.write_text(json.dumps(w.openapi()))
                out.update({res.entity: res for res in payloads.resources(w.fn.name, spec)})
        return out

    def refs(self, entity: dict) -> dict[str, Any]:
        return {c["name"]: self.created[c["reference"]["entity"]] for c in entity["columns"]
                if c.get("reference") and c["reference"]["entity"] in self.created}

    def api_crud(self) -> str:
        resources = self.resources()
        with self.http() as http:
            for n, e in enumerate(self.model["entities"]):
                res = resources.get(e["name"]["pascal"])
                if res is None:
                    continue
                r = http.post(res.path, json=payloads.body(res, n, self.refs(e)))
                assert r.status_code == 201, f"POST {res.path}: {r.status_code} {r.text[:300]}"
                key = r.json()[e["pk"]]
                got = http.get(f"{res.path}/{key}")
                assert got.status_code == 200, f"GET {res.path}/{key}: {got.status_code}"
                self.created[e["name"]["raw"]] = key
        assert self.created, "no entity served by any function"
        return f"created and read {', '.join(self.created)} through the HTTP API"

    def bad_input(self) -> str:
        resources = self.resources()
        # References their owner checks through another service's API (the others are logical).
        verified = {(r["entity"], r["field"]) for s in self.model["services"] for r in s["references"]}
        seen = 0
        with self.http() as http:
            for n, e in enumerate(self.model["entities"]):
                res = resources.get(e["name"]["pascal"])
                if res is None:
                    continue
                r = http.post(res.path, json={"unexpected_field": 1})
                assert r.status_code == 422, f"POST {res.path} with an unknown field: {r.status_code}"
                seen += 1
                for c in e["columns"]:
                    ref = c.get("reference")
                    if ref and (e["name"]["raw"], c["name"]) in verified and ref["entity"] in self.created:
                        body = payloads.body(res, 100 + n, {**self.refs(e), c["name"]: str(uuid.uuid4())})
                        r = http.post(res.path, json=body)
                        assert r.status_code == 422, f"{e['name']['raw']}.{c['name']} unknown: {r.status_code}"
                        seen += 1
        return f"{seen} bad requests answered 422 (unknown fields, unknown references)"

    def events(self) -> str:
        sqs = self.r.aws["sqs"]
        published = {t for s in self.model["services"] for t in (p["raw"] for p in s["publishes"])
                     if any(e["owner"] == s["name"]["raw"] and e["name"]["raw"] in self.created
                            for e in self.model["entities"])}
        # The event of each row created through the API, by topic: its detail is the row (key `pk`).
        rows: dict[str, set[tuple[str, str]]] = {}
        for e in self.model["entities"]:
            if e["name"]["raw"] in self.created:
                for t in e["code"]["publishes"]:
                    rows.setdefault(t["raw"], set()).add((e["pk"], str(self.created[e["name"]["raw"]])))
        handled = []
        for fn, (url, _) in self.r.queue_urls.items():
            topic = self.r.dep.rules[self.r.dep.queues[fn][1]]
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            if topic in published and not messages:
                raise AssertionError(f"{fn}: no {topic} event arrived")
            if not messages:
                continue
            details = [json.loads(m["Body"]).get("detail") or {} for m in messages]
            for pk, key in rows.get(topic, ()):
                assert any(str(d.get(pk)) == key for d in details), f"{fn}: no {topic} event of row {key}: {details}"
            out = self.r.workers[fn].invoke(sqs_event(messages))
            assert out.get("ok") == {"batchItemFailures": []}, f"{fn}: {out}"
            for m in messages:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            handled.append(f"{fn} ({len(messages)})")
        assert handled or not published, "no event delivered"
        return "handled " + ", ".join(handled) if handled else "no topic published"

    def crud_walk(self) -> str:
        """Every other route: two more rows per entity, then the list page by page (limit 1) holds
        each row exactly once; PATCH; DELETE refused (409) while a row of the same database refers
        to a row, then children first 204 and 404 after."""
        resources = self.resources()
        entities = [e for e in self.model["entities"]
                    if e["name"]["raw"] in self.created and e["name"]["pascal"] in resources]
        rows: dict[str, list[Any]] = {}
        walked, refused = [], 0
        with self.http() as http:
            for n, e in enumerate(entities):
                path, pk = resources[e["name"]["pascal"]].path, e["pk"]
                rows[e["name"]["raw"]] = [self.created[e["name"]["raw"]]]
                for i in range(2):
                    got = http.post(path, json=payloads.body(resources[e["name"]["pascal"]], 300 + 10 * n + i,
                                                              self.refs(e)))
                    assert got.status_code == 201, f"POST {path}: {got.status_code} {got.text[:200]}"
                    rows[e["name"]["raw"]].append(got.json()[pk])
                seen, after, pages = [], None, 0
                while True:
                    got = http.get(path, params={"limit": 1, **({"after": after} if after else {})})
                    assert got.status_code == 200, f"GET {path}: {got.status_code} {got.text[:200]}"
                    pages += 1
                    seen += [str(i[pk]) for i in got.json()["items"]]
                    after = got.json()["next"]
                    if after is None:
                        break
                    assert pages < 500, f"{path}: no end of the list"
                assert len(seen) == len(set(seen)), f"{path}: a row on two pages: {seen}"
                missing = {str(k) for k in rows[e["name"]["raw"]]} - set(seen)
                assert not missing, f"{path}: {missing} on no page"
                key = rows[e["name"]["raw"]][0]
                patched = http.patch(f"{path}/{key}", json={})
                assert patched.status_code == 200, f"PATCH {path}/{key}: {patched.status_code} {patched.text[:200]}"
                assert patched.json() == http.get(f"{path}/{key}").json(), f"PATCH {path}/{key} changed the row"
                walked.append(f"{e['name']['raw']} ({len(seen)} rows on {pages} pages)")
            for e in entities:
                children = [x for x in entities for c in x["columns"] if (c.get("reference") or {}).get("entity")
                            == e["name"]["raw"] and c["reference"]["foreign_key"]]
                if children:
                    path, key = resources[e["name"]["pascal"]].path, self.created[e["name"]["raw"]]
                    got = http.delete(f"{path}/{key}")
                    assert got.status_code == 409, f"DELETE {path}/{key} still referenced: {got.status_code}"
                    refused += 1
            deleted = 0
            for e in reversed(entities):
                path = resources[e["name"]["pascal"]].path
                for key in reversed(rows[e["name"]["raw"]]):
                    got = http.delete(f"{path}/{key}")
                    assert got.status_code == 204, f"DELETE {path}/{key}: {got.status_code} {got.text[:200]}"
                    assert http.get(f"{path}/{key}").status_code == 404, f"GET {path}/{key} after DELETE"
                    assert http.delete(f"{path}/{key}").status_code == 404, f"DELETE {path}/{key} twice"
                    deleted += 1
        assert walked, "no row to walk"
        return (f"paged (limit 1) and patched {', '.join(walked)}; {refused} delete(s) of referenced rows "
                f"refused 409; {deleted} rows deleted (204, then 404)")

    def route_auth(self) -> str:
        """Public operations are answered without a token, by a function that gets no claims; the
        others are refused by the gateway without one, and by the function without claims."""
        import httpx

        routes = self.r.dep.routes
        paths = [e["code"]["api_path"] for e in self.model["entities"]]
        # What the blueprint makes public (the model's rules), served by some function.
        public = [e["code"]["api_path"] for e in self.model["entities"]
                  if e["code"]["auth"]["read"]["kind"] == "public" and select(routes, "GET", e["code"]["api_path"])]
        refused = 0
        with httpx.Client(base_url=self.r.endpoint, timeout=30) as anonymous:
            for path in public:
                got = anonymous.get(path)
                assert got.status_code == 200, f"GET {path} without a token: {got.status_code} {got.text[:200]}"
            for path in paths:
                r = select(routes, "POST", path)
                if r is None or r.authorization != "JWT":
                    continue
                got = anonymous.post(path, json={})
                assert got.status_code == 401, f"POST {path} without a token: {got.status_code}"
                # Past the gateway, the function's own rule refuses a request without claims.
                event = api_event("POST", path, "", {"content-type": "application/json"}, b"{}", None)
                out = self.r.workers[r.function].invoke(event)["ok"]
                assert out["statusCode"] == 401, f"{r.function} POST {path} without claims: {out['statusCode']}"
                refused += 1
        assert refused, "no protected route"
        return (f"{len(public)} public list routes answered without a token; POST on {refused} protected "
                "routes refused by the gateway and by the function without claims")

    def poison(self) -> str:
        """Every queue function (Python or TypeScript) reports a poison record until its queue
        dead-letters it."""
        sqs = self.r.aws["sqs"]
        if not self.r.queue_urls:
            return "no queue"
        done = []
        for fn, (url, dlq) in self.r.queue_urls.items():
            max_receive = self.r.dep.queues[fn][2]
            sqs.send_message(QueueUrl=url, MessageBody="not an event")
            for _ in range(max_receive):
                messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1,
                                               VisibilityTimeout=0).get("Messages", [])
                assert messages, f"{fn}: the poison message vanished before reaching the dead-letter queue"
                out = self.r.workers[fn].invoke(sqs_event(messages))
                failed = [f["itemIdentifier"] for f in out["ok"]["batchItemFailures"]]
                assert failed == [messages[0]["MessageId"]], f"{fn} did not report the poison record: {out}"
            assert not sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"), f"{fn}: still in the queue"
            dead = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages", [])
            assert [m["Body"] for m in dead] == ["not an event"], f"{fn}: dead-letter queue holds {dead}"
            done.append(dlq.rsplit("/", 1)[1])
        return f"each queue function reported the poison record {max_receive} times, then it was in {', '.join(done)}"


CHECKS = (("cold-start", "cold_start"), ("api-crud", "api_crud"), ("bad-input-4xx", "bad_input"),
          ("route-auth", "route_auth"), ("events-delivered", "events"), ("poison-to-dlq", "poison"),
          ("crud-walk", "crud_walk"))
# Checks that use the rows `api-crud` created (and the events they published): a narrowed run
# (`--only`, `--mutate`) runs it first.
NEEDS_ROWS = {"bad-input-4xx", "events-delivered", "crud-walk"}


def run_serverless(root: Path, run: Path, python: Path, bin_path: Path, label: str, sup: Supervisor,
                   only: set[str] | None = None) -> list[tuple[str, bool, str]]:
    model = json.loads(subprocess.run([str(bin_path), "model", "-f", str(root / "blueprint.yaml")],
                                      check=True, capture_output=True, text=True).stdout)
    r = Run(root, run, python, sup, model)
    try:
        r.start()
        c = Checks(r, model, label)
        wanted = set(only or ()) | ({"api-crud"} if set(only or ()) & NEEDS_ROWS else set())
        for name, method in CHECKS:
            if not wanted or name in wanted or name == "cold-start":
                c.check(name, getattr(c, method))
        return c.results
    finally:
        r.stop()
