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


def promtool_rules(ctx: Context, tool: str, groups: list, display: str) -> list:
    """promtool check rules on {groups}; returns error lines (empty when valid)."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=ctx.work, delete=False) as fh:
        yaml.safe_dump({"groups": groups}, fh, sort_keys=False)
    status, out = ctx.run([tool, "check", "rules", fh.name], timeout=120)
    os.unlink(fh.name)
    if status == 0:
        return []
    return [
        line.strip().replace(fh.name, display)
        for line in out.splitlines()
        if line.strip() and not line.startswith("Checking") and line.strip() != "FAILED:"
    ]


def promtool(ctx: Context, tree: Tree) -> None:
    rule_files, crs = tree.files("promrules"), tree.files("promrule")
    if not (rule_files or crs) or not ctx.require(ctx.find_tool("promtool"), "promtool", "promtool", tree):
        return
    tool = ctx.find_tool("promtool")

    def check_file(rel: str) -> None:
        status, out = ctx.run([tool, "check", "rules", rel], cwd=tree.root, timeout=120)
        ctx.verdict("promtool", tree, rel, [out] if status else [], "promtool check rules")

    def check_cr(rel: str) -> None:
        docs = [d for d in tree.docs[rel] if isinstance(d, dict) and d.get("kind") == "PrometheusRule"]
        groups = [g for d in docs for g in ((d.get("spec") or {}).get("groups") or [])]
        errors = promtool_rules(ctx, tool, groups, rel)
        ctx.verdict("promtool", tree, rel, errors, f"{len(docs)} PrometheusRule object(s): spec.groups pass promtool")

    for rel in rule_files:
        ctx.once(ctx.file_key("promtool", tree, rel, "rules"), tree, rel, lambda rel=rel: check_file(rel))
    for rel in crs:
        ctx.once(ctx.file_key("promtool", tree, rel, "PrometheusRule"), tree, rel, lambda rel=rel: check_cr(rel))


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
    dashboards = [(rel, promql_targets(load_dashboard(tree.path(rel)))) for rel in tree.grafana_files]
    dashboards = [(rel, exprs) for rel, exprs in dashboards if exprs]
    if not dashboards or not ctx.require(ctx.find_tool("promtool"), "promtool", "grafana-promql", tree):
        return

    def check(rel: str, exprs: list) -> None:
        rules = [{"record": f"grafana:query_{i}", "expr": grafana_expr(e)} for i, (_, e) in enumerate(exprs)]
        errors = promtool_rules(ctx, ctx.find_tool("promtool"), [{"name": "dashboard", "rules": rules}], rel)
        errors = [name_queries(e, exprs) for e in errors]
        ctx.verdict("grafana-promql", tree, rel, errors, f"{len(exprs)} PromQL query(ies) parse (promtool)")

    for rel, exprs in dashboards:
        ctx.once(ctx.file_key("grafana-promql", tree, rel), tree, rel, lambda rel=rel, exprs=exprs: check(rel, exprs))
