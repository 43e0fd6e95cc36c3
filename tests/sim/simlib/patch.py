# SPDX-License-Identifier: Apache-2.0
"""Patch types the apiserver double accepts: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
strategic merge patch for the fields kube-firstboot and kubectl send (lists with merge keys as in the
Kubernetes Go types; directives $patch, $retainKeys, $setElementOrder, $deleteFromPrimitiveList)."""
import copy


class PatchError(Exception):
    pass


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    out = dict(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# Lists merged by key in strategic merge patch, by field name (the Go types' patchMergeKey).
# Any other list is replaced as a whole (e.g. Node spec.taints, RBAC rules and subjects).
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "volumes": "name",
    "env": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath", "imagePullSecrets": "name",
    "ownerReferences": "uid", "conditions": "type", "addresses": "type", "tolerations": None,
    "hostAliases": "ip", "topologySpreadConstraints": "topologyKey",
}
PORT_KEYS = {"ports": ("containerPort", "port")}
PRIMITIVE_MERGE = {"finalizers"}


def _merge_key(field, items):
    if field in PORT_KEYS:
        for k in PORT_KEYS[field]:
            if any(isinstance(i, dict) and k in i for i in items):
                return k
        return None
    return MERGE_KEYS.get(field)


def _smp_list(field, target, patch):
    target = list(target) if isinstance(target, list) else []
    key = _merge_key(field, patch + target)
    if field in PRIMITIVE_MERGE:
        out = list(target)
        for v in patch:
            if v not in out:
                out.append(v)
        return out
    if not key:
        # Replace, dropping directive-only items.
        return [copy.deepcopy(p) for p in patch if not (isinstance(p, dict) and "$patch" in p)]
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return [copy.deepcopy(p) for p in patch if not (isinstance(p, dict) and "$patch" in p)]
    out = [copy.deepcopy(t) for t in target]
    for p in patch:
        if not isinstance(p, dict):
            raise PatchError(f"strategic merge patch: list {field} needs objects with key {key}")
        if key not in p:
            raise PatchError(f"map: {p} does not contain declared merge key: {key}")
        idx = next((i for i, t in enumerate(out) if isinstance(t, dict) and t.get(key) == p[key]), None)
        if p.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(strategic_merge({}, p))
        else:
            out[idx] = strategic_merge(out[idx], p)
    return out


def strategic_merge(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    out = dict(target)
    retain = patch.get("$retainKeys")
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys") or k.startswith("$setElementOrder/"):
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            f = k.split("/", 1)[1]
            if isinstance(out.get(f), list):
                out[f] = [x for x in out[f] if x not in v]
            continue
        if v is None:
            out.pop(k, None)
        elif isinstance(v, list):
            out[k] = _smp_list(k, out.get(k), v)
        elif isinstance(v, dict):
            m = strategic_merge(out.get(k), v)
            if m is None:
                out.pop(k, None)
            else:
                out[k] = m
        else:
            out[k] = v
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain}
    return out


def _ptr(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json_patch(doc, ops):
    doc = copy.deepcopy(doc)
    if not isinstance(ops, list):
        raise PatchError("json patch must be a list of operations")
    for op in ops:
        parts = _ptr(op.get("path", ""))
        o = op.get("op")
        if not parts:
            raise PatchError("json patch on the whole document is not supported")
        parent = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent.get(p)
            if parent is None:
                raise PatchError(f"doc is missing path: {op.get('path')}")
        last = parts[-1]
        if o in ("add", "replace"):
            if isinstance(parent, list):
                if last == "-":
                    parent.append(op["value"])
                elif o == "add":
                    parent.insert(int(last), op["value"])
                else:
                    parent[int(last)] = op["value"]
            else:
                if o == "replace" and last not in parent:
                    raise PatchError(f"replace operation does not apply: doc is missing key: {op.get('path')}")
                parent[last] = op["value"]
        elif o == "remove":
            try:
                if isinstance(parent, list):
                    parent.pop(int(last))
                else:
                    del parent[last]
            except (KeyError, IndexError):
                raise PatchError(f"remove operation does not apply: doc is missing path: {op.get('path')}")
        elif o == "test":
            cur = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if cur != op.get("value"):
                raise PatchError(f"testing value {op.get('path')} failed")
        else:
            raise PatchError(f"unsupported json patch operation {o!r}")
    return doc
