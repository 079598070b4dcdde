"""Inventory of one generated tree: which file is checked by which validator.

Files are recognised by path first (workflows, compose files, kustomizations, Dockerfiles, migrations) and
then by content (Kubernetes objects, Istio objects, OpenAPI documents, Prometheus rules, Grafana
dashboards). All paths kept here are relative to the tree root, with `/` separators.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import yaml

from .yamlload import load_docs

SKIP_DIRS = {
    ".git",
    "node_modules",
    "__pycache__",
    ".terraform",
    "target",
    ".codex-system-design",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".tox",
    ".idea",
    ".vscode",
    "venv",
    ".venv",
}
COMPOSE_NAME = re.compile(r"^(docker-)?compose([.-][\w.-]+)?\.ya?ml$")
DOCKERFILE_NAME = re.compile(r"^(Dockerfile([.-][\w.-]+)?|[\w.-]+\.[Dd]ockerfile)$")
REQUIREMENTS_NAME = re.compile(r"^requirements([.-][\w.-]+)?\.txt$")
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
ISTIO_GROUPS = ("networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io")
DOWN_DIRS = ("down", "undo", "rollback")
NOT_CLUSTER_OBJECTS = ("kustomize.config.k8s.io", "config.kubernetes.io", "skaffold.dev")


def api_group(doc: dict) -> str:
    api = str(doc.get("apiVersion", ""))
    return api.split("/", 1)[0] if "/" in api else ""


def doc_role(doc) -> str | None:
    """What a YAML document is: k8s, istio, promrule (CR), promrules (rule file), openapi, or None."""
    if not isinstance(doc, dict):
        return None
    if "openapi" in doc or "swagger" in doc:
        return "openapi"
    if "apiVersion" in doc and "kind" in doc:
        group = api_group(doc)
        if group in ISTIO_GROUPS:
            return "istio"
        if group == "monitoring.coreos.com" and doc["kind"] == "PrometheusRule":
            return "promrule"
        if any(group == g or group.endswith("." + g) or group.startswith("skaffold") for g in NOT_CLUSTER_OBJECTS):
            return None
        return "k8s"
    groups = doc.get("groups")
    if isinstance(groups, list) and groups and all(isinstance(g, dict) and "rules" in g for g in groups):
        return "promrules"
    return None


def migration_version(name: str) -> tuple:
    """Sort key from a migration file name: V002__x.sql, 002_x.up.sql, U002__x.sql -> (2,)."""
    m = re.match(r"^[VvUuRr]?(\d+(?:[._]\d+)*)", name)
    if not m:
        return (float("inf"), name)
    return tuple(int(p) for p in re.split(r"[._]", m.group(1))) + (name,)


def is_down_script(rel: str) -> bool:
    p = PurePosixPath(rel)
    name = p.name.lower()
    if p.parent.name.lower() in DOWN_DIRS:
        return True
    if re.match(r"^u\d", name):
        return True
    return re.search(r"[._-](down|undo|rollback)\.sql$", name) is not None


DBMATE_UP = re.compile(r"^--\s*migrate:up\b.*$", re.MULTILINE)
DBMATE_DOWN = re.compile(r"^--\s*migrate:down\b.*$", re.MULTILINE)


def dbmate_blocks(text: str) -> tuple | None:
    """(up, down) of a dbmate migration (a `-- migrate:up` block, then a `-- migrate:down` block, in one
    file); None for a plain script."""
    up = DBMATE_UP.search(text)
    if up is None:
        return None
    down = DBMATE_DOWN.search(text, up.end())
    end = down.start() if down is not None else len(text)

    def block(start: int, stop: int) -> str:  # padded so error line numbers are the file's
        return "\n" * text.count("\n", 0, start) + text[start:stop]

    return block(up.end(), end), block(down.end(), len(text)) if down is not None else ""


def is_dbmate_file(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return dbmate_blocks(fh.read()) is not None
    except OSError:
        return False


@dataclass
class MigrationSet:
    """One database: a folder under `migrations/`, its up scripts in order, its down scripts in reverse. A
    dbmate file (up and down blocks in one file) is in both lists: its up block runs as an up script, its
    down block as a down script."""

    rel: str
    name: str
    ups: list = field(default_factory=list)
    downs: list = field(default_factory=list)
    # "mysql" for a MySQL database (the generator's state lists them), else "postgres".
    dialect: str = "postgres"


@dataclass
class Tree:
    root: str
    label: str
    prefix: str = ""
    index: int = 0
    yaml_files: list = field(default_factory=list)
    docs: dict = field(default_factory=dict)
    by_role: dict = field(default_factory=dict)
    workflows: list = field(default_factory=list)
    compose_files: list = field(default_factory=list)
    kustomize_dirs: list = field(default_factory=list)
    patch_files: set = field(default_factory=set)
    json_files: list = field(default_factory=list)
    json_errors: dict = field(default_factory=dict)
    grafana_files: list = field(default_factory=list)
    hcl_files: list = field(default_factory=list)
    tf_dirs: list = field(default_factory=list)
    tftest_files: list = field(default_factory=list)
    sql_files: list = field(default_factory=list)
    migration_sets: list = field(default_factory=list)
    proto_roots: dict = field(default_factory=dict)
    dockerfiles: list = field(default_factory=list)
    python_files: list = field(default_factory=list)
    requirements_files: list = field(default_factory=list)
    python_projects: list = field(default_factory=list)
    py_services: list = field(default_factory=list)

    def path(self, rel: str) -> str:
        return os.path.join(self.root, rel)

    def target(self, rel: str) -> str:
        return f"{self.prefix}{rel}"

    def files(self, role: str) -> list:
        return self.by_role.get(role, [])


def walk(root: str):
    """Relative paths of every file, sorted, skipping caches, venvs and VCS folders."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".venv"))
        for f in sorted(filenames):
            yield os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/")


def scan(root: str, label: str, prefix: str, index: int) -> Tree:
    tree = Tree(root=root, label=label, prefix=prefix, index=index)
    files = list(walk(root))
    tree.patch_files = kustomize_patches(root, files)
    for rel in files:
        classify_file(tree, rel)
    # terraform fmt also formats test files (`tests/*.tftest.hcl`)
    tree.tf_dirs = sorted({parent(f) for f in tree.hcl_files + tree.tftest_files if not f.endswith(".tfvars")})
    tree.migration_sets = migration_sets(tree.sql_files, lambda rel: is_dbmate_file(tree.path(rel)))
    mysql = mysql_folders(root)
    for ms in tree.migration_sets:
        if ms.rel in mysql:
            ms.dialect = "mysql"
    tree.python_projects, tree.py_services = python_projects(root, files)
    return tree


def parent(rel: str) -> str:
    return str(PurePosixPath(rel).parent)


def classify_file(tree: Tree, rel: str) -> None:
    name = PurePosixPath(rel).name
    low = name.lower()
    if low.endswith((".yaml", ".yml")):
        classify_yaml(tree, rel, name)
    elif low.endswith(".json"):
        classify_json(tree, rel)
    elif low.endswith((".tf", ".tfvars")):
        tree.hcl_files.append(rel)
    elif low.endswith(".tftest.hcl"):
        tree.tftest_files.append(rel)
    elif low.endswith(".sql"):
        tree.sql_files.append(rel)
    elif low.endswith(".proto"):
        tree.proto_roots.setdefault(proto_root(rel), []).append(rel)
    elif DOCKERFILE_NAME.match(name):
        tree.dockerfiles.append(rel)
    elif low.endswith(".py"):
        tree.python_files.append(rel)
    elif REQUIREMENTS_NAME.match(low):
        tree.requirements_files.append(rel)


def classify_yaml(tree: Tree, rel: str, name: str) -> None:
    tree.yaml_files.append(rel)
    parts = PurePosixPath(rel).parts
    if len(parts) >= 3 and parts[-3] == ".github" and parts[-2] == "workflows":
        tree.workflows.append(rel)
    elif name in KUSTOMIZATION_NAMES:
        if not is_component(tree.path(rel)):
            tree.kustomize_dirs.append(parent(rel))
    elif COMPOSE_NAME.match(name.lower()):
        tree.compose_files.append(rel)
    elif rel not in tree.patch_files:
        classify_yaml_content(tree, rel)


def classify_yaml_content(tree: Tree, rel: str) -> None:
    try:
        with open(tree.path(rel), encoding="utf-8") as fh:
            docs = load_docs(fh.read())
    except (yaml.YAMLError, UnicodeDecodeError):
        return  # yamllint reports it
    tree.docs[rel] = docs
    for role in sorted({r for r in map(doc_role, docs) if r}):
        tree.by_role.setdefault(role, []).append(rel)


def classify_json(tree: Tree, rel: str) -> None:
    tree.json_files.append(rel)
    try:
        with open(tree.path(rel), encoding="utf-8") as fh:
            data = json.load(fh)
    except (ValueError, UnicodeDecodeError) as e:
        tree.json_errors[rel] = str(e)
        return
    if not isinstance(data, dict):
        return
    if "openapi" in data or "swagger" in data:
        tree.by_role.setdefault("openapi", []).append(rel)
    elif isinstance(data.get("panels"), list) or isinstance((data.get("dashboard") or {}).get("panels"), list):
        tree.grafana_files.append(rel)


def is_component(path: str) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return False
    return isinstance(doc, dict) and doc.get("kind") == "Component"


def kustomize_patches(root: str, files: list) -> set:
    """Files that kustomizations use as patches: partial objects, not checked as resources."""
    found = set()
    for rel in files:
        if PurePosixPath(rel).name not in KUSTOMIZATION_NAMES:
            continue
        try:
            with open(os.path.join(root, rel), encoding="utf-8") as fh:
                k = yaml.safe_load(fh) or {}
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        if not isinstance(k, dict):
            continue
        base = parent(rel)
        for p in patch_paths(k):
            found.add(os.path.normpath(os.path.join(base, p)).replace(os.sep, "/"))
    return found


def patch_paths(k: dict) -> list:
    paths = []
    for key in ("patches", "patchesJson6902", "patchesStrategicMerge"):
        for p in k.get(key) or []:
            if isinstance(p, dict) and isinstance(p.get("path"), str):
                paths.append(p["path"])
            elif isinstance(p, str) and "\n" not in p:
                paths.append(p)
    return paths


def proto_root(rel: str) -> str:
    """Include root of a .proto: the nearest ancestor folder named `proto`, else the file's folder."""
    parts = PurePosixPath(rel).parts[:-1]
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "proto":
            return "/".join(parts[: i + 1])
    return "/".join(parts) or "."


def mysql_folders(root: str) -> set:
    """The migration folders of MySQL databases, as a generated tree's state records them."""
    try:
        with open(os.path.join(root, ".codex-system-design", "state.json"), encoding="utf-8") as fh:
            return set(json.load(fh).get("schema", {}).get("mysql", []))
    except (OSError, ValueError, AttributeError):
        return set()


def migration_sets(sql_files: list, is_dbmate=lambda rel: False) -> list:
    """Each folder directly under a `migrations` folder is one database (a `migrations` folder holding
    .sql files itself is one too); down/, undo/ and rollback/ subfolders belong to their set."""
    sets: dict = {}
    for rel in sql_files:
        key = migration_set_of(rel)
        if key is None:
            continue
        ms = sets.setdefault(key, MigrationSet(rel=key, name=PurePosixPath(key).name))
        if is_dbmate(rel):
            ms.ups.append(rel)
            ms.downs.append(rel)
            continue
        (ms.downs if is_down_script(rel) else ms.ups).append(rel)
    for ms in sets.values():
        ms.ups.sort(key=lambda f: migration_version(PurePosixPath(f).name))
        ms.downs.sort(key=lambda f: migration_version(PurePosixPath(f).name), reverse=True)
    return [sets[k] for k in sorted(sets)]


def migration_set_of(rel: str) -> str | None:
    parts = PurePosixPath(rel).parts
    dirs = parts[:-1]
    if "migrations" not in dirs:
        return None
    i = len(dirs) - 1 - dirs[::-1].index("migrations")
    below = [d.lower() for d in dirs[i + 1 :]]
    if below and below[-1] in DOWN_DIRS:
        below = below[:-1]
    if len(below) > 1:
        return None  # deeper than migrations/<db>/[down/]: not a migration script
    return "/".join(dirs[: i + 1 + len(below)])


def python_projects(root: str, files: list) -> tuple:
    """Folders with requirements.txt or pyproject.toml (projects); those with a tests/ folder too (services)."""
    dirs = {parent(f) for f in files if PurePosixPath(f).name in ("requirements.txt", "pyproject.toml")}
    projects = sorted(dirs)
    services = [d for d in projects if os.path.isdir(os.path.join(root, d, "tests"))]
    return projects, services
