"""Rules the Kubernetes API server enforces that its OpenAPI schemas do not express.

Each function returns a list of problems (strings, empty when fine). Sources: the API server's
validation code (apimachinery validation of names and labels, core/apps validation of pods, services,
config maps and autoscalers).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
ENV_VAR_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
QUANTITY = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$")
SUFFIX = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
# Kinds whose names are only path segments (RBAC allows "system:foo").
PATH_SEGMENT_NAMED = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")


def object_problems(doc: dict) -> list:
    problems = metadata_problems(doc)
    kind = doc.get("kind")
    spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
    if kind in WORKLOADS:
        problems += workload_selector_problems(spec)
    template, _ = pod_template(doc)
    if isinstance(template, dict):
        claims = {(c.get("metadata") or {}).get("name") for c in spec.get("volumeClaimTemplates") or []}
        problems += pod_problems(template, claims)
    checks = {
        "Service": service_problems,
        "HorizontalPodAutoscaler": hpa_problems,
        "PodDisruptionBudget": pdb_problems,
    }
    if kind in checks:
        problems += checks[kind](spec)
    if kind in ("ConfigMap", "Secret"):
        problems += data_key_problems(doc)
    return problems


# ---------------------------------------------------------------- names and labels


def metadata_problems(doc: dict) -> list:
    md = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    problems = name_problems(doc.get("kind"), md.get("name"), md.get("generateName"))
    ns = md.get("namespace")
    if ns is not None and not is_dns_label(ns):
        problems.append(f"metadata.namespace {ns!r} is not a DNS-1123 label")
    problems += label_map_problems("metadata.labels", md.get("labels"))
    for key in as_dict(md.get("annotations")):
        problems += key_problems("metadata.annotations", key)
    return problems


def name_problems(kind, name, generate_name) -> list:
    if name is None:
        return [] if generate_name else ["metadata.name is required"]
    if not isinstance(name, str):
        return [f"metadata.name {name!r} must be a string"]
    if kind == "Service" and not (len(name) <= 63 and DNS1035_LABEL.match(name)):
        return [f"metadata.name {name!r} is not a DNS-1035 label (lowercase letter first, <= 63)"]
    if kind == "Namespace" and not is_dns_label(name):
        return [f"metadata.name {name!r} is not a DNS-1123 label"]
    if kind in PATH_SEGMENT_NAMED:
        bad = name in (".", "..") or "/" in name or "%" in name
        return [f"metadata.name {name!r} is not a valid path segment"] if bad else []
    if len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        return [f"metadata.name {name!r} is not a DNS-1123 subdomain (lowercase, digits, '-', '.')"]
    return []


def as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def is_dns_label(value) -> bool:
    return isinstance(value, str) and len(value) <= 63 and DNS1123_LABEL.match(value) is not None


def key_problems(where: str, key) -> list:
    key = str(key)
    prefix, slash, name = key.rpartition("/")
    problems = []
    if slash and (not prefix or len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        problems.append(f"{where} key {key!r}: prefix must be a DNS-1123 subdomain")
    if len(name) > 63 or not QUALIFIED_NAME.match(name):
        problems.append(f"{where} key {key!r} is not a qualified name (<= 63, alphanumeric at both ends)")
    return problems


def label_map_problems(where: str, labels) -> list:
    if not isinstance(labels, dict):
        return []
    problems = []
    for key, value in labels.items():
        problems += key_problems(where, key)
        if not isinstance(value, str):
            problems.append(f"{where}[{key}] value {value!r} must be a string (quote it)")
        elif len(value) > 63 or not LABEL_VALUE.match(value):
            problems.append(f"{where}[{key}] value {value!r} is not a valid label value")
    return problems


# ---------------------------------------------------------------- workloads and pods


def pod_template(doc: dict) -> tuple:
    """(pod spec, pod metadata) of a workload, a CronJob or a Pod; (None, None) for other kinds."""
    kind = doc.get("kind")
    spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
    if kind == "Pod":
        return spec, doc.get("metadata") or {}
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
        kind = "Job"
    if kind in WORKLOADS + ("Job",):
        template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
        return template.get("spec"), template.get("metadata") or {}
    return None, None


def selector_matches(selector, labels: dict) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against a label map."""
    if not isinstance(selector, dict):
        return False
    labels = labels if isinstance(labels, dict) else {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }.get(op, False)
        if not ok:
            return False
    return True


def workload_selector_problems(spec: dict) -> list:
    template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    problems = label_map_problems("spec.template.metadata.labels", labels)
    selector = spec.get("selector")
    if isinstance(selector, dict) and not (selector.get("matchLabels") or selector.get("matchExpressions")):
        problems.append("spec.selector is empty")
    elif isinstance(selector, dict) and not selector_matches(selector, labels):
        problems.append(
            f"spec.selector {selector.get('matchLabels') or selector} does not match spec.template.metadata.labels"
        )
    if isinstance(selector, dict):
        problems += label_map_problems("spec.selector.matchLabels", selector.get("matchLabels"))
    return problems


def containers_of(pod: dict) -> list:
    return [c for group in ("initContainers", "containers") for c in (pod.get(group) or []) if isinstance(c, dict)]


def pod_problems(pod: dict, claims: set) -> list:
    """Containers and volumes of a pod spec; `claims` are a StatefulSet's volumeClaimTemplates."""
    problems = volume_problems(pod)
    names = set()
    volumes = {v.get("name") for v in pod.get("volumes") or [] if isinstance(v, dict)} | claims
    for c in containers_of(pod):
        name = c.get("name")
        if not is_dns_label(name):
            problems.append(f"container name {name!r} is not a DNS-1123 label")
        if name in names:
            problems.append(f"container name {name!r} is used twice")
        names.add(name)
        problems += [f"container {name}: {p}" for p in container_problems(c, volumes)]
    return problems


def volume_problems(pod: dict) -> list:
    problems, seen = [], set()
    for v in pod.get("volumes") or []:
        name = v.get("name") if isinstance(v, dict) else None
        if not is_dns_label(name):
            problems.append(f"volume name {name!r} is not a DNS-1123 label")
        if name in seen:
            problems.append(f"volume name {name!r} is used twice")
        seen.add(name)
    return problems


def container_problems(c: dict, volumes: set) -> list:
    problems = port_problems(c.get("ports") or [])
    for mount in c.get("volumeMounts") or []:
        if isinstance(mount, dict) and mount.get("name") not in volumes:
            problems.append(f"volumeMount {mount.get('name')!r} names no volume of the pod")
    for env in c.get("env") or []:
        if isinstance(env, dict) and not (isinstance(env.get("name"), str) and ENV_VAR_NAME.match(env["name"])):
            problems.append(f"env name {env.get('name')!r} is not a valid environment variable name")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        problems += probe_port_problems(probe, c.get(probe))
    problems += resource_problems(c.get("resources"))
    return problems


def port_problems(ports: list) -> list:
    problems, names = [], set()
    for p in ports:
        if not isinstance(p, dict):
            continue
        number = p.get("containerPort")
        if isinstance(number, int) and not 1 <= number <= 65535:
            problems.append(f"containerPort {number} is not in 1-65535")
        name = p.get("name")
        if name is None:
            continue
        if not is_port_name(name):
            problems.append(f"port name {name!r} must be <= 15 lowercase letters, digits, '-', with a letter")
        if name in names:
            problems.append(f"port name {name!r} is used twice")
        names.add(name)
    return problems


def is_port_name(name) -> bool:
    return (
        isinstance(name, str)
        and len(name) <= 15
        and IANA_SVC_NAME.match(name) is not None
        and "--" not in name
        and re.search("[a-z]", name) is not None
    )


def is_port_ref(value) -> bool:
    return (isinstance(value, int) and 1 <= value <= 65535) or is_port_name(value)


def probe_port_problems(probe: str, spec) -> list:
    if not isinstance(spec, dict):
        return []
    problems = []
    for handler in ("httpGet", "tcpSocket", "grpc"):
        h = spec.get(handler)
        if isinstance(h, dict) and "port" in h and not is_port_ref(h["port"]):
            problems.append(f"{probe}.{handler}.port {h['port']!r} is neither 1-65535 nor a port name")
    return problems


def quantity(value):
    """A resource quantity as a Decimal, or None when it is not one."""
    text = str(value).strip()
    m = QUANTITY.match(text)
    if not m:
        return None
    suffix = m.group(2) or ""
    try:
        if suffix[:1] in ("e", "E"):
            return Decimal(text)
        return Decimal(text[: len(text) - len(suffix)]) * SUFFIX[suffix]
    except InvalidOperation:
        return None


def resource_problems(resources) -> list:
    if not isinstance(resources, dict):
        return []
    problems = []
    parsed = {}
    for section in ("requests", "limits"):
        for name, value in (resources.get(section) or {}).items():
            q = quantity(value)
            if q is None:
                problems.append(f"resources.{section}.{name} {value!r} is not a quantity")
            parsed[(section, name)] = q
    for (section, name), req in parsed.items():
        limit = parsed.get(("limits", name))
        if section == "requests" and req is not None and limit is not None and req > limit:
            problems.append(
                f"resources.requests.{name} {resources['requests'][name]} exceeds the limit {resources['limits'][name]}"
            )
    return problems


# ---------------------------------------------------------------- other kinds


def service_problems(spec: dict) -> list:
    problems = label_map_problems("spec.selector", spec.get("selector"))
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
    names = [p.get("name") for p in ports]
    if len(ports) > 1 and not all(names):
        problems.append("spec.ports: every port needs a name when there are several")
    if len([n for n in names if n]) != len({n for n in names if n}):
        problems.append("spec.ports: port names must be unique")
    for p in ports:
        if isinstance(p.get("port"), int) and not 1 <= p["port"] <= 65535:
            problems.append(f"spec.ports port {p['port']} is not in 1-65535")
        if "targetPort" in p and not is_port_ref(p["targetPort"]):
            problems.append(f"spec.ports targetPort {p['targetPort']!r} is neither 1-65535 nor a port name")
        if p.get("name") and not is_dns_label(p["name"]):
            problems.append(f"spec.ports name {p['name']!r} is not a DNS-1123 label")
    return problems


def hpa_problems(spec: dict) -> list:
    low, high = spec.get("minReplicas", 1), spec.get("maxReplicas")
    problems = []
    if isinstance(low, int) and low < 1:
        problems.append(f"spec.minReplicas {low} must be at least 1")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        problems.append(f"spec.minReplicas {low} is greater than spec.maxReplicas {high}")
    return problems


def pdb_problems(spec: dict) -> list:
    problems = []
    if "minAvailable" in spec and "maxUnavailable" in spec:
        problems.append("spec.minAvailable and spec.maxUnavailable cannot both be set")
    selector = spec.get("selector")
    if isinstance(selector, dict):
        problems += label_map_problems("spec.selector.matchLabels", selector.get("matchLabels"))
    return problems


def data_key_problems(doc: dict) -> list:
    problems = []
    data, binary = as_dict(doc.get("data")), as_dict(doc.get("binaryData"))
    for key in list(data) + list(binary):
        if len(str(key)) > 253 or not CONFIG_KEY.match(str(key)):
            problems.append(f"data key {key!r} may hold only letters, digits, '-', '_', '.'")
    for key in set(data) & set(binary):
        problems.append(f"key {key!r} is in both data and binaryData")
    return problems
