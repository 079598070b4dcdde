"""Prometheus rule files and PrometheusRule objects through promtool; Grafana dashboards: their structure
(Grafana publishes no JSON Schema) and every PromQL query through promtool."""

from __future__ import annotations

import json
import os
import re
import tempfile

import yaml

from .context import Context
from .tree import Tree

GRAFANA_SUBSTITUTIONS = (
    (re.compile(r"\[\s*\$\{?\w+(:\w+)?\}?\s*\]"), "[5m]"),  # a variable as the range of a selector
    (re.compile(r"\$\{?__(rate_interval|interval|range)\}?"), "5m"),
    (re.compile(r"\$\{?__(interval_ms|range_s|range_ms)\}?"), "300"),
    (re.compile(r"\[\[(\w+)\]\]|\$\{(\w+)(:[^}]*)?\}|\$(\w+)"), "var"),
)
GRAFANA_UID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def rules_file(ctx: Context, groups: list) -> str:
    """A temporary rule file holding `groups`."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=ctx.work, delete=False) as fh:
        yaml.safe_dump({"groups": groups}, fh, sort_keys=False)
    return fh.name


def promtool_rules(ctx: Context, tool: str, files: list, cwd: str) -> dict:
    """`promtool check rules` over several files in one process: {file: error lines}, empty when valid. A file
    is valid when promtool printed SUCCESS after its `Checking` line; its errors are the lines that name it, and
    those that name no file."""
    if not files:
        return {}
    status, out, err = ctx.run_split([tool, "check", "rules", *files], cwd=cwd, timeout=120)
    passed, current, lines = set(), None, []
    for line in out.splitlines():
        if line.startswith("Checking "):
            current = line[len("Checking ") :].strip()
        elif line.strip().startswith("SUCCESS") and current is not None:
            passed.add(current)
        else:
            lines.append(line)
    lines = [line.strip() for line in lines + err.splitlines() if line.strip() and line.strip() != "FAILED:"]
    named = {f: [line for line in lines if line.startswith(f + ":")] for f in files}
    stray = [line for line in lines if not any(line.startswith(f + ":") for f in files)]
    return {f: [] if status == 0 or f in passed else (named[f] + stray or [f"promtool exited {status}"]) for f in files}


def promtool(ctx: Context, tree: Tree) -> None:
    """Rule files and PrometheusRule objects of a tree, but those identical to one checked earlier, in one
    promtool process."""
    rule_files, crs = tree.files("promrules"), tree.files("promrule")
    if not (rule_files or crs) or not ctx.require(ctx.find_tool("promtool"), "promtool", "promtool", tree):
        return
    keys = {rel: ctx.file_key("promtool", tree, rel, "rules") for rel in rule_files}
    keys.update({rel: ctx.file_key("promtool", tree, rel, "PrometheusRule") for rel in crs})
    given, counts = {}, {}  # rel -> file given to promtool; CR rel -> number of PrometheusRule objects
    for rel in rule_files:
        if ctx.memo.claim(keys[rel], tree, rel):
            given[rel] = rel  # promtool runs from the tree root
    for rel in crs:
        docs = [d for d in tree.docs[rel] if isinstance(d, dict) and d.get("kind") == "PrometheusRule"]
        counts[rel] = len(docs)
        if ctx.memo.claim(keys[rel], tree, rel):
            given[rel] = rules_file(ctx, [g for d in docs for g in ((d.get("spec") or {}).get("groups") or [])])
    found = promtool_rules(ctx, ctx.find_tool("promtool"), list(given.values()), tree.root)
    for rel, path in given.items():
        if path != rel:
            found[path] = [line.replace(path, rel) for line in found[path]]
            os.unlink(path)

    def report(rel: str) -> None:
        if rel in counts:
            ok = f"{counts[rel]} PrometheusRule object(s): spec.groups pass promtool"
        else:
            ok = "promtool check rules"
        ctx.verdict("promtool", tree, rel, found[given[rel]], ok)

    for rel in rule_files + crs:
        ctx.once(keys[rel], tree, rel, lambda rel=rel: report(rel))


def load_dashboard(path: str):
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    return data["dashboard"] if isinstance(data.get("dashboard"), dict) else data


def dashboard_problems(dash: dict) -> list:
    problems = []
    if not isinstance(dash.get("title"), str) or not dash.get("title"):
        problems.append("title is missing")
    if not isinstance(dash.get("schemaVersion"), int):
        problems.append("schemaVersion is missing or not an integer")
    if "uid" in dash and not (isinstance(dash["uid"], str) and GRAFANA_UID.match(dash["uid"])):
        problems.append("uid must be 1-40 characters of A-Z a-z 0-9 _ -")
    variables = [v.get("name") for v in (dash.get("templating") or {}).get("list") or [] if isinstance(v, dict)]
    if len(variables) != len(set(variables)):
        problems.append("templating variables must have unique names")
    ids: set = set()
    for where, panel in panels(dash.get("panels") or []):
        problems += panel_problems(where, panel, ids)
    return problems


def panels(items: list, where: str = "panels"):
    for i, panel in enumerate(items):
        yield f"{where}[{i}]", panel
        if isinstance(panel, dict) and panel.get("type") == "row":
            yield from panels(panel.get("panels") or [], f"{where}[{i}].panels")


def panel_problems(where: str, panel, ids: set) -> list:
    if not isinstance(panel, dict):
        return [f"{where} is not an object"]
    problems = [] if panel.get("type") else [f"{where} has no type"]
    if panel.get("id") is not None:
        if panel["id"] in ids:
            problems.append(f"{where}: panel id {panel['id']} is used twice")
        ids.add(panel["id"])
    grid = panel.get("gridPos")
    if not isinstance(grid, dict) or not all(isinstance(grid.get(k), int) for k in ("h", "w", "x", "y")):
        problems.append(f"{where}: gridPos needs integers h, w, x, y")
    elif grid["x"] < 0 or grid["w"] < 1 or grid["h"] < 1 or grid["x"] + grid["w"] > 24:
        problems.append(f"{where}: gridPos must fit in 24 columns with positive width and height")
    ref_ids = [t.get("refId") for t in panel.get("targets") or [] if isinstance(t, dict)]
    if len(ref_ids) > 1 and (None in ref_ids or len(set(ref_ids)) != len(ref_ids)):
        problems.append(f"{where}: targets need distinct refIds")
    return problems


def promql_targets(dash: dict) -> list:
    found = []
    for where, panel in panels(dash.get("panels") or []):
        for j, target in enumerate((panel.get("targets") or []) if isinstance(panel, dict) else []):
            expr = target.get("expr") if isinstance(target, dict) else None
            if isinstance(expr, str) and expr.strip():
                found.append((f"{where}.targets[{j}]", expr))
    return found


def grafana_expr(expr: str) -> str:
    for pattern, replacement in GRAFANA_SUBSTITUTIONS:
        expr = pattern.sub(replacement, expr)
    return expr


def name_queries(error: str, exprs: list) -> str:
    """Puts the panel and target back in place of the made-up rule name in a promtool message."""
    return re.sub(r'"grafana:query_(\d+)"', lambda m: exprs[int(m.group(1))][0], error)


def grafana_dashboard(ctx: Context, tree: Tree) -> None:
    for rel in tree.grafana_files:
        dash = load_dashboard(tree.path(rel))
        count = len(list(panels(dash.get("panels") or [])))
        ctx.verdict(
            "grafana-dashboard",
            tree,
            rel,
            dashboard_problems(dash),
            f"{count} panel(s): title, uid, schemaVersion, gridPos, refIds",
        )


def grafana_promql(ctx: Context, tree: Tree) -> None:
    """Every dashboard's queries as recording rules, one rule file per dashboard, those of a tree (but copies of
    one checked earlier) in one promtool process."""
    dashboards = [(rel, promql_targets(load_dashboard(tree.path(rel)))) for rel in tree.grafana_files]
    dashboards = [(rel, exprs) for rel, exprs in dashboards if exprs]
    if not dashboards or not ctx.require(ctx.find_tool("promtool"), "promtool", "grafana-promql", tree):
        return
    keys = {rel: ctx.file_key("grafana-promql", tree, rel) for rel, _ in dashboards}
    given = {}
    for rel, exprs in dashboards:
        if ctx.memo.claim(keys[rel], tree, rel):
            rules = [{"record": f"grafana:query_{i}", "expr": grafana_expr(e)} for i, (_, e) in enumerate(exprs)]
            given[rel] = rules_file(ctx, [{"name": "dashboard", "rules": rules}])
    found = promtool_rules(ctx, ctx.find_tool("promtool"), list(given.values()), ctx.work)
    for path in given.values():
        os.unlink(path)

    def report(rel: str, exprs: list) -> None:
        path = given[rel]
        errors = [name_queries(line.replace(path, rel), exprs) for line in found[path]]
        ctx.verdict("grafana-promql", tree, rel, errors, f"{len(exprs)} PromQL query(ies) parse (promtool)")

    for rel, exprs in dashboards:
        ctx.once(keys[rel], tree, rel, lambda rel=rel, exprs=exprs: report(rel, exprs))
