"""The three PATCH formats of the Kubernetes API:

- JSON merge patch (RFC 7386), application/merge-patch+json;
- JSON patch (RFC 6902), application/json-patch+json;
- strategic merge patch, application/strategic-merge-patch+json: a merge
  patch in which lists declared with a patch merge key are merged item by item
  (containers by name, ports by port, ...), lists of scalars declared "merge"
  are unions, and the directives $patch (replace, delete, merge),
  $retainKeys, $deleteFromPrimitiveList/<field> and $setElementOrder/<field>
  apply.  The per-kind schema (which lists merge, and by which key) comes from
  the caller; lists without an entry are replaced, as atomic lists are.

Each function returns a new document and never changes its arguments.
"""

import copy

__all__ = ["PatchError", "merge_patch", "json_patch", "strategic_merge_patch", "ListMerge"]


class PatchError(ValueError):
    """A patch that cannot apply.  `code` is the HTTP status to answer with."""

    def __init__(self, message, code=422):
        super().__init__(message)
        self.code = code


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            result[key] = merge_patch(result.get(key), value)
        else:
            result[key] = copy.deepcopy(value)
    return result


# ---- RFC 6902 -------------------------------------------------------------

def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError("invalid JSON pointer %r: must start with '/'" % path, 400)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container, token, path, allow_end=False):
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        raise PatchError("invalid array index %r in path %r" % (token, path))
    i = int(token)
    if i > len(container) or (i == len(container) and not allow_end):
        raise PatchError("array index %d out of bounds in path %r" % (i, path))
    return i


def _parent(doc, path):
    tokens = _pointer(path)
    if not tokens:
        return None, None
    node = doc
    for tok in tokens[:-1]:
        if isinstance(node, dict):
            if tok not in node:
                raise PatchError("path %r does not exist: missing %r" % (path, tok))
            node = node[tok]
        elif isinstance(node, list):
            node = node[_index(node, tok, path)]
        else:
            raise PatchError("path %r does not exist" % path)
    return node, tokens[-1]


def _get(doc, path):
    parent, last = _parent(doc, path)
    if parent is None and last is None:
        return doc
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError("path %r does not exist" % path)
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, path)]
    raise PatchError("path %r does not exist" % path)


def _remove(doc, path):
    parent, last = _parent(doc, path)
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError("unable to remove nonexistent key: %s: missing value" % last)
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, path))
    raise PatchError("cannot remove the whole document")


def _add(doc, path, value):
    parent, last = _parent(doc, path)
    if parent is None and last is None:
        return value
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, path, allow_end=True), value)
    else:
        raise PatchError("path %r does not exist" % path)
    return doc


def json_patch(target, ops):
    if not isinstance(ops, list):
        raise PatchError("json patch must be a JSON array of operations", 400)
    doc = copy.deepcopy(target)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError("json patch operation needs \"op\" and \"path\": %r" % (op,), 400)
        kind, path = op["op"], op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError("json patch %s operation does not have a value" % kind, 400)
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            parent, last = _parent(doc, path)
            if parent is None and last is None:
                doc = copy.deepcopy(op["value"])
            elif isinstance(parent, list):
                parent[_index(parent, last, path)] = copy.deepcopy(op["value"])
            else:
                parent[last] = copy.deepcopy(op["value"])
        elif kind in ("move", "copy"):
            if "from" not in op:
                raise PatchError("json patch %s operation needs \"from\"" % kind, 400)
            if kind == "move" and (path + "/").startswith(op["from"] + "/") and path != op["from"]:
                raise PatchError("cannot move %r into its own child %r" % (op["from"], path))
            value = _get(doc, op["from"])
            if kind == "move":
                _remove(doc, op["from"])
            doc = _add(doc, path, copy.deepcopy(value))
        elif kind == "test":
            if _get(doc, path) != op["value"]:
                raise PatchError("testing value %s failed: test failed" % path)
        else:
            raise PatchError("unexpected json patch operation %r" % kind, 400)
    return doc


# ---- strategic merge patch -----------------------------------------------

class ListMerge:
    """Schema entry for a list merged by key (key="name"), or a list of
    scalars merged as a union (key=None).  `items` is the schema inside each
    item (a dict of field -> ListMerge or nested dict)."""

    def __init__(self, key=None, items=None):
        self.key = key
        self.items = items or {}


_DELETE = object()


def _strip_directives(value, schema):
    """A new list item or map from a patch: its own directives still apply."""
    if isinstance(value, dict):
        out = _smp_map({}, value, schema if isinstance(schema, dict) else {})
        return {} if out is _DELETE else out
    return copy.deepcopy(value)


def _smp_map(orig, patch, schema):
    directive = patch.get("$patch")
    if directive == "delete":
        return _DELETE
    if directive == "replace":
        return {k: _strip_directives(v, schema.get(k)) for k, v in patch.items() if k != "$patch"}
    if directive not in (None, "merge"):
        raise PatchError("unknown patch type: %r in map" % directive, 400)
    result = dict(orig) if isinstance(orig, dict) else {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list) and isinstance(value, list):
                result[field] = [x for x in result[field] if x not in value]
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        sub = schema.get(key)
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = _smp_map(result.get(key), value, sub if isinstance(sub, dict) else {})
            if merged is _DELETE:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list) and isinstance(sub, ListMerge):
            result[key] = _smp_list(result.get(key), value, sub)
        else:
            result[key] = _strip_directives(value, sub) if not isinstance(value, list) else \
                [_strip_directives(v, sub.items if isinstance(sub, ListMerge) else {})
                 for v in value]
    for key, value in patch.items():
        if key.startswith("$setElementOrder/"):
            field = key.split("/", 1)[1]
            sub = schema.get(field)
            if isinstance(result.get(field), list) and isinstance(value, list) \
                    and isinstance(sub, ListMerge):
                result[field] = _reorder(result[field], value, sub.key,
                                         orig.get(field) if isinstance(orig, dict) else None)
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _smp_list(orig, patch, schema):
    orig = list(orig) if isinstance(orig, list) else []
    if schema.key is None:
        out = list(orig)
        for v in patch:
            if v not in out:
                out.append(copy.deepcopy(v))
        return out
    if any(isinstance(v, dict) and v.get("$patch") == "replace" and len(v) == 1 for v in patch):
        return [_strip_directives(v, schema.items) for v in patch
                if not (isinstance(v, dict) and v.get("$patch") == "replace")]
    key = schema.key
    out = list(orig)
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError("cannot merge a non-object item into a list merged by %r" % key, 400)
        if key not in item:
            raise PatchError("map: %r does not contain declared merge key: %s" % (item, key), 400)
        at = next((i for i, o in enumerate(out) if isinstance(o, dict) and o.get(key) == item[key]),
                  None)
        if item.get("$patch") == "delete":
            if at is not None:
                del out[at]
            continue
        if at is None:
            out.append(_strip_directives(item, schema.items))
        else:
            merged = _smp_map(out[at], item, schema.items)
            if merged is _DELETE:
                del out[at]
            else:
                out[at] = merged
    return out


def _reorder(items, order, key, server):
    """$setElementOrder: the items the patch names come in its order; the
    others keep their relative order and their place next to the item that
    preceded them in the live list."""
    def ident(v):
        return v.get(key) if key is not None and isinstance(v, dict) else v

    wanted = [ident(v) for v in order]
    rank = {k: i for i, k in enumerate(wanted)}
    named = sorted((v for v in items if ident(v) in rank), key=lambda v: rank[ident(v)])
    rest = [v for v in items if ident(v) not in rank]
    live = [ident(v) for v in server] if isinstance(server, list) else []
    pos = {k: i for i, k in enumerate(live)}
    out, j = [], 0
    for v in rest:
        # Place each server-only item before the first named item that
        # followed it in the live list.
        while j < len(named):
            a, b = pos.get(ident(v)), pos.get(ident(named[j]))
            if a is not None and b is not None and a < b:
                break
            out.append(named[j])
            j += 1
        out.append(v)
    out.extend(named[j:])
    return out


def strategic_merge_patch(target, patch, schema):
    if not isinstance(patch, dict):
        raise PatchError("strategic merge patch must be a JSON object", 400)
    result = _smp_map(target, patch, schema or {})
    if result is _DELETE:
        raise PatchError("a patch cannot delete the whole object", 400)
    return result
