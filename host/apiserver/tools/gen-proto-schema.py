#!/usr/bin/env python3
"""Generates src/proto/k8s.schema: the protobuf layout of the built-in kinds the embedded server serves.

Reads the prost-generated sources of the `k8s-pb` crate (field numbers, wire types, message types) and the
`k8s-openapi` crate (the JSON name of each field), both from the local cargo registry, and writes one line per
message and field:

    M <proto package>.<Message>
    F <tag> <json name> <label: o|r|m> <type> [<keys>]  type: string bytes bool int32 int64 double or a message
                                                         name; maps: m with "<key>,<value>"; keys: the JSON
                                                         names a list's items merge by (strategic merge)

Only messages reachable from the roots below are written. Run after bumping k8s-pb:
    python3 host/apiserver/tools/gen-proto-schema.py > host/apiserver/src/proto/k8s.schema
"""
import glob
import os
import re
import sys

REGISTRY = os.path.expanduser("~/.cargo/registry/src")
PB = sorted(glob.glob(f"{REGISTRY}/*/k8s-pb-0.9.0/src"))[-1]
OA = sorted(glob.glob(f"{REGISTRY}/*/k8s-openapi-0.29.*/src/v1_35"))[-1]

ROOTS = """
k8s.io.api.core.v1: Namespace NamespaceList ConfigMap ConfigMapList Secret SecretList ServiceAccount
  ServiceAccountList Event EventList Pod PodList Service ServiceList Endpoints EndpointsList PersistentVolumeClaim
  PersistentVolumeClaimList
k8s.io.api.events.v1: Event EventList
k8s.io.api.coordination.v1: Lease LeaseList
k8s.io.api.rbac.v1: Role RoleList RoleBinding RoleBindingList ClusterRole ClusterRoleList ClusterRoleBinding
  ClusterRoleBindingList
k8s.io.api.apps.v1: Deployment DeploymentList StatefulSet StatefulSetList DaemonSet DaemonSetList
k8s.io.api.discovery.v1: EndpointSlice EndpointSliceList
k8s.io.api.networking.v1: Ingress IngressList NetworkPolicy NetworkPolicyList
k8s.io.api.admissionregistration.v1: ValidatingWebhookConfiguration ValidatingWebhookConfigurationList
  MutatingWebhookConfiguration MutatingWebhookConfigurationList
k8s.io.api.authentication.v1: TokenRequest TokenReview SelfSubjectReview
k8s.io.api.authorization.v1: SubjectAccessReview SelfSubjectAccessReview SelfSubjectRulesReview
  LocalSubjectAccessReview
k8s.io.apimachinery.pkg.apis.meta.v1: Status DeleteOptions WatchEvent List
"""

def package_of(rel_dir):
    parts = rel_dir.split("/")
    if parts[0] == "api":
        return "k8s.io.api." + ".".join(parts[1:])
    if parts[0] == "apimachinery":
        return "k8s.io.apimachinery." + ".".join(parts[1:])
    if parts[0] == "apiextensions_apiserver":
        return "k8s.io.apiextensions-apiserver." + ".".join(parts[1:])
    return None

def resolve(rel_dir, path):
    """A Rust type path relative to module rel_dir -> (package, Message)."""
    path = path.replace(" ", "")
    segs = rel_dir.split("/")
    parts = path.split("::")
    while parts and parts[0] == "super":
        segs = segs[:-1]
        parts = parts[1:]
    name = parts[-1]
    segs = segs + parts[:-1]
    return package_of("/".join(segs)) + "." + name

def snake(name):
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    s = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", s)
    return s.lower()

def norm(s):
    return re.sub(r"[^a-z0-9]", "", s.lower())

def openapi_source(rel_dir, message):
    path = os.path.join(OA, rel_dir, snake(message) + ".rs")
    return open(path).read() if os.path.exists(path) else ""

def json_names(text):
    return {norm(k): k for k in re.findall(r'"([^"]+)" => Field::Key_', text)}

def merge_keys(text):
    """List fields merged by key (k8s-openapi's DeepMerge list::map): normalized rust field -> key JSON names."""
    out = {}
    for m in re.finditer(r"list::map\(\s*&mut self\.(\w+),\s*other\.\w+,\s*&\[(.*?)\],", text, re.S):
        keys = [camel(k.rstrip("_")) for k in re.findall(r"lhs\.(\w+) ==", m.group(2))]
        out[norm(m.group(1))] = ",".join(keys)
    return out

def camel(rust):
    head, *rest = rust.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)

messages = {}
for file in glob.glob(f"{PB}/**/mod.rs", recursive=True):
    rel_dir = os.path.relpath(os.path.dirname(file), PB)
    pkg = package_of(rel_dir)
    if pkg is None:
        continue
    text = "\n".join(l for l in open(file).read().split("\n") if not l.strip().startswith("///"))
    for m in re.finditer(r"pub struct (\w+) \{(.*?)\n\}", text, re.S):
        name, body = m.group(1), m.group(2)
        source = openapi_source(rel_dir, name)
        names = json_names(source)
        keyed = merge_keys(source)
        fields = []
        for f in re.finditer(r"#\[prost\(([^\]]*?)\)\]\s*pub (?:r#)?(\w+):\s*(.*?),\s*(?=#\[prost|$)", body, re.S):
            spec, rust, ty = f.group(1), f.group(2), f.group(3)
            tag = re.search(r'tag = "(\d+)"', spec).group(1)
            json = names.get(norm(rust), camel(rust))
            kind = spec.split(",")[0].strip()
            if kind.startswith("btree_map"):
                kv = re.search(r'btree_map = "([^"]+)"', spec).group(1).replace(" ", "")
                k, v = kv.split(",")
                if v == "message":
                    inner = re.search(r"BTreeMap<[^,]+,(.*)>\s*$", ty.replace("\n", ""), re.S).group(1).strip()
                    v = resolve(rel_dir, inner.rstrip(",").strip())
                fields.append((tag, json, "m", f"{k},{v}"))
                continue
            label = "r" if "repeated" in spec else "o"
            keys = keyed.get(norm(rust)) if label == "r" else None
            if kind == "message":
                inner = re.sub(r"\s+", "", ty)
                inner = re.sub(r"^(::core::option::Option|::prost::alloc::vec::Vec|::prost::alloc::boxed::Box)<", "", inner)
                inner = re.sub(r"^(::prost::alloc::boxed::Box)<", "", inner)
                inner = inner.rstrip(">")
                kind = resolve(rel_dir, inner)
            fields.append((tag, json, label, kind + (f" {keys}" if keys else "")))
        if len(fields) != body.count("#[prost("):
            sys.exit(f"{pkg}.{name}: parsed {len(fields)} of {body.count('#[prost(')} fields")
        messages[f"{pkg}.{name}"] = fields

wanted, todo = set(), []
for line in ROOTS.replace("\n  ", " ").strip().split("\n"):
    pkg, names = line.split(":")
    todo += [f"{pkg.strip()}.{n}" for n in names.split()]
while todo:
    m = todo.pop()
    if m in wanted:
        continue
    if m not in messages:
        sys.exit(f"unknown message {m}")
    wanted.add(m)
    for _, _, label, kind in messages[m]:
        for t in kind.split(" ")[0].split(","):
            if t.startswith("k8s.io."):
                todo.append(t)

print("# Protobuf layout of the built-in kinds (generated by tools/gen-proto-schema.py from k8s-pb 0.9.0 and")
print("# k8s-openapi 0.29 field names; do not edit).")
for m in sorted(wanted):
    print(f"M {m}")
    for tag, json, label, kind in messages[m]:
        print(f"F {tag} {json} {label} {kind}")
