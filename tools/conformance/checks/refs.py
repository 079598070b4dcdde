"""Cross references between objects, in the spirit of `istioctl analyze` (which is not installable offline).

A scope is a set of objects (all manifests of a tree, or one rendered kustomization). An object without a
namespace is taken to be in any namespace, since kustomize overlays often set it later.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .apirules import containers_of, pod_template, selector_matches
from .context import Context
from .tree import Tree, doc_role

SCALABLE = ("Deployment", "StatefulSet", "ReplicaSet")


def ns(doc: dict) -> str:
    return str((doc.get("metadata") or {}).get("namespace") or "")


def name(doc: dict):
    return (doc.get("metadata") or {}).get("name")


def same_ns(a: str, b: str) -> bool:
    return not a or not b or a == b


@dataclass
class Pod:
    namespace: str
    labels: dict
    owner: dict
    spec: dict


@dataclass
class Scope:
    objects: list
    by_kind: dict = field(default_factory=dict)
    pods: list = field(default_factory=list)

    def __post_init__(self):
        for doc in self.objects:
            self.by_kind.setdefault(doc.get("kind"), []).append(doc)
            spec, meta = pod_template(doc)
            if isinstance(spec, dict):
                self.pods.append(Pod(ns(doc), (meta or {}).get("labels") or {}, doc, spec))

    def named(self, kind: str, wanted, namespace: str) -> bool:
        return any(name(o) == wanted and same_ns(ns(o), namespace) for o in self.by_kind.get(kind, []))

    def pods_selected(self, selector: dict, namespace: str) -> list:
        return [p for p in self.pods if same_ns(p.namespace, namespace) and selector_matches(selector, p.labels)]


# ---------------------------------------------------------------- Kubernetes


def selector_problems(scope: Scope) -> list:
    problems = []
    for svc in scope.by_kind.get("Service", []):
        sel = (svc.get("spec") or {}).get("selector")
        if sel and not scope.pods_selected({"matchLabels": sel}, ns(svc)):
            problems.append(f"Service/{name(svc)}: selector {sel} matches no pod template")
    for kind, key in (("PodDisruptionBudget", "selector"), ("NetworkPolicy", "podSelector")):
        for obj in scope.by_kind.get(kind, []):
            sel = (obj.get("spec") or {}).get(key) or {}
            if (sel.get("matchLabels") or sel.get("matchExpressions")) and not scope.pods_selected(sel, ns(obj)):
                problems.append(f"{kind}/{name(obj)}: {key} {sel.get('matchLabels') or sel} matches no pod template")
    return problems


def target_port_problems(scope: Scope) -> list:
    """A named targetPort must be a container port name of the pods the Service selects."""
    problems = []
    for svc in scope.by_kind.get("Service", []):
        spec = svc.get("spec") or {}
        pods = scope.pods_selected({"matchLabels": spec["selector"]}, ns(svc)) if spec.get("selector") else []
        names = {p.get("name") for pod in pods for c in containers_of(pod.spec) for p in c.get("ports") or []}
        for port in spec.get("ports") or []:
            target = port.get("targetPort")
            if pods and isinstance(target, str) and target not in names:
                problems.append(f"Service/{name(svc)}: targetPort {target!r} is no container port name of its pods")
    return problems


def hpa_problems(scope: Scope) -> list:
    problems = []
    for hpa in scope.by_kind.get("HorizontalPodAutoscaler", []):
        ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        if ref.get("kind") in SCALABLE and not scope.named(ref.get("kind"), ref.get("name"), ns(hpa)):
            problems.append(
                f"HorizontalPodAutoscaler/{name(hpa)}: scaleTargetRef {ref.get('kind')}/{ref.get('name')} not found"
            )
    return problems


def config_map_refs(pod: dict):
    """(where, config map name) for every non-optional ConfigMap a pod uses."""
    for c in containers_of(pod):
        for ef in c.get("envFrom") or []:
            ref = ef.get("configMapRef") or {}
            if ref.get("name") and not ref.get("optional"):
                yield f"container {c.get('name')} envFrom", ref["name"]
        for env in c.get("env") or []:
            ref = (env.get("valueFrom") or {}).get("configMapKeyRef") or {}
            if ref.get("name") and not ref.get("optional"):
                yield f"env {env.get('name')}", ref["name"]
    for vol in pod.get("volumes") or []:
        ref = vol.get("configMap") or {}
        if ref.get("name") and not ref.get("optional"):
            yield f"volume {vol.get('name')}", ref["name"]
        for source in (vol.get("projected") or {}).get("sources") or []:
            ref = source.get("configMap") or {}
            if ref.get("name") and not ref.get("optional"):
                yield f"volume {vol.get('name')}", ref["name"]


def pod_ref_problems(scope: Scope) -> list:
    problems = []
    for pod in scope.pods:
        who = f"{pod.owner.get('kind')}/{name(pod.owner)}"
        sa = pod.spec.get("serviceAccountName")
        if sa and sa != "default" and not scope.named("ServiceAccount", sa, pod.namespace):
            problems.append(f"{who}: serviceAccountName {sa!r} has no ServiceAccount")
        for where, cm in config_map_refs(pod.spec):
            if not scope.named("ConfigMap", cm, pod.namespace):
                problems.append(f"{who}: {where} uses ConfigMap {cm!r}, which does not exist")
    return problems


# ---------------------------------------------------------------- Istio


def host_key(host: str, namespace: str) -> tuple:
    """(service, namespace) for a cluster-local host, (host, None) for an external one."""
    parts = str(host).split(".")
    if len(parts) == 1:
        return parts[0], namespace
    if host.endswith(".svc.cluster.local") and len(parts) == 5 or host.endswith(".svc") and len(parts) == 3:
        return parts[0], parts[1]
    return host, None


def subsets_by_host(scope: Scope) -> list:
    return [
        (
            host_key((dr.get("spec") or {}).get("host", ""), ns(dr)),
            {s.get("name") for s in (dr.get("spec") or {}).get("subsets") or []},
        )
        for dr in scope.by_kind.get("DestinationRule", [])
    ]


def has_subset(known: list, key: tuple, subset: str) -> bool:
    return any(k[0] == key[0] and same_ns(k[1] or "", key[1] or "") and subset in names for k, names in known)


def routes(vs: dict):
    for proto in ("http", "tcp", "tls"):
        for i, route in enumerate((vs.get("spec") or {}).get(proto) or []):
            yield f"{proto}[{i}]", route.get("route") or []


def virtual_service_problems(scope: Scope) -> list:
    problems = []
    known = subsets_by_host(scope)
    services = scope.by_kind.get("Service", [])
    for vs in scope.by_kind.get("VirtualService", []):
        who = f"VirtualService/{name(vs)}"
        for where, dests in routes(vs):
            weights = [d.get("weight") for d in dests if d.get("weight") is not None]
            if weights and (len(dests) > 1 or weights != [100]) and sum(weights) != 100:
                problems.append(f"{who}: {where} weights sum to {sum(weights)}, not 100")
            for d in dests:
                dest = d.get("destination") or {}
                key = host_key(dest.get("host", ""), ns(vs))
                if dest.get("subset") and not has_subset(known, key, dest["subset"]):
                    problems.append(f"{who}: subset {dest['subset']!r} of {dest.get('host')} is in no DestinationRule")
                if services and key[1] is not None and not scope.named("Service", key[0], key[1]):
                    problems.append(f"{who}: destination host {dest.get('host')} is no Service")
        problems += gateway_problems(scope, vs, who)
    return problems


def gateway_problems(scope: Scope, vs: dict, who: str) -> list:
    problems = []
    for gw in (vs.get("spec") or {}).get("gateways") or []:
        if gw == "mesh":
            continue
        gw_ns, _, gw_name = gw.rpartition("/")
        if not scope.named("Gateway", gw_name, gw_ns or ns(vs)):
            problems.append(f"{who}: gateway {gw!r} not found")
    return problems


def workload_selector_problems(scope: Scope) -> list:
    problems = []
    if not scope.pods:
        return problems
    for kind in ("AuthorizationPolicy", "PeerAuthentication"):
        for obj in scope.by_kind.get(kind, []):
            sel = (obj.get("spec") or {}).get("selector") or {}
            if sel.get("matchLabels") and not scope.pods_selected(sel, ns(obj)):
                problems.append(f"{kind}/{name(obj)}: selector {sel['matchLabels']} matches no pod template")
    return problems


CHECKS = (
    selector_problems,
    target_port_problems,
    hpa_problems,
    pod_ref_problems,
    virtual_service_problems,
    workload_selector_problems,
)


def check_scope(ctx: Context, tree: Tree, target: str, objects: list) -> None:
    scope = Scope([o for o in objects if isinstance(o, dict) and o.get("kind")])
    if not scope.objects:
        return
    problems = []
    for check in CHECKS:
        try:
            problems += check(scope)
        except (AttributeError, TypeError) as e:  # a malformed object the schema checks report
            problems.append(f"{check.__name__}: cannot follow references ({type(e).__name__}: {e})")
    ctx.verdict(
        "k8s-refs",
        tree,
        target,
        problems,
        f"{len(scope.objects)} object(s): selectors, ports, HPA targets, ConfigMaps, ServiceAccounts, "
        "Istio hosts, subsets, gateways, weights",
    )


def k8s_refs(ctx: Context, tree: Tree) -> None:
    files = sorted(set(tree.files("k8s")) | set(tree.files("istio")))
    if not files:
        return
    objects = [d for f in files for d in tree.docs[f] if doc_role(d) in ("k8s", "istio")]
    # Across the whole tree, files of a kustomize base and of its overlays carry different namespaces
    # (the overlay rewrites them), so namespaces are ignored here; each rendered kustomization is
    # checked again with its real namespaces.
    objects = [without_namespace(d) for d in objects]
    common = os.path.commonpath(files) if len(files) > 1 else os.path.dirname(files[0])
    check_scope(ctx, tree, common or ".", objects)


def without_namespace(doc: dict) -> dict:
    meta = doc.get("metadata")
    if not isinstance(meta, dict) or "namespace" not in meta:
        return doc
    return {**doc, "metadata": {k: v for k, v in meta.items() if k != "namespace"}}
