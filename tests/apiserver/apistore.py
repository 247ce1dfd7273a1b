"""The object store behind the test API server: one global resourceVersion
counter (etcd's revision), objects kept with their serialised bytes, a
bounded event history for watches and consistent paged lists, and
persistence (a snapshot plus an append-only journal of events).

Every object in the store is immutable once stored: changes build a new
dict (from the stored bytes) and a new Entry.  Readers may therefore use the
entries they collected after dropping the lock.
"""

import base64
import bisect
import binascii
import heapq
import json
import os
import random
import threading
import time

import apimodel
from apimodel import RESOURCES, FieldError, InvalidError

BY_NAME = {r.name: r for r in RESOURCES}
BY_KIND = {(r.api_version, r.kind): r for r in RESOURCES}


class ApiError(Exception):
    """An error answered with a Status object."""

    REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
               405: "MethodNotAllowed", 406: "NotAcceptable", 409: "Conflict", 410: "Expired",
               415: "UnsupportedMediaType", 422: "Invalid", 500: "InternalError",
               504: "Timeout"}

    def __init__(self, code, message, reason=None, details=None, list_meta=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason if reason is not None else self.REASONS.get(code, "")
        self.details = details
        self.list_meta = list_meta

    def status(self):
        st = {"kind": "Status", "apiVersion": "v1", "metadata": self.list_meta or {},
              "status": "Failure", "message": self.message}
        if self.reason:
            st["reason"] = self.reason
        if self.details:
            st["details"] = self.details
        st["code"] = self.code
        return st


def _details(res, name, **extra):
    d = {"name": name}
    if res.group:
        d["group"] = res.group
    d["kind"] = res.name
    d.update(extra)
    return d


def not_found(res, name):
    return ApiError(404, '%s "%s" not found' % (res.qualified, name), "NotFound",
                    _details(res, name))


def already_exists(res, name):
    return ApiError(409, '%s "%s" already exists' % (res.qualified, name), "AlreadyExists",
                    _details(res, name))


def conflict(res, name, why="the object has been modified; please apply your changes to the "
                            "latest version and try again"):
    return ApiError(409, 'Operation cannot be fulfilled on %s "%s": %s' % (res.qualified, name,
                                                                           why),
                    "Conflict", _details(res, name))


def invalid(res, name, errors):
    text = "; ".join(str(e) for e in errors)
    if len(errors) > 1:
        text = "[" + ", ".join(str(e) for e in errors) + "]"
    details = {"name": name}
    if res.group:
        details["group"] = res.group
    details["kind"] = res.kind
    details["causes"] = [{"reason": FieldError.REASONS.get(e.kind, "FieldValueInvalid"),
                          "message": e.body(), "field": e.field} for e in errors]
    return ApiError(422, '%s "%s" is invalid: %s' % (res.qualified_kind, name, text), "Invalid",
                    details)


def expired(message, list_meta=None):
    return ApiError(410, message, "Expired", list_meta=list_meta)


def encode(res, obj):
    """Serialises an object with apiVersion and kind first (see Resource.head)."""
    ordered = {"apiVersion": res.api_version, "kind": res.kind}
    for k, v in obj.items():
        if k not in ordered:
            ordered[k] = v
    return json.dumps(ordered, separators=(",", ":")).encode()


class Entry:
    """One stored version of an object: its bytes, and the dict decoded from
    them (given, or decoded on first use: a restart loads ten thousand
    objects without decoding those no selector ever looks at)."""

    __slots__ = ("_obj", "raw", "rv")

    def __init__(self, res, obj, rv, raw=None):
        if obj is not None:
            obj["apiVersion"] = res.api_version
            obj["kind"] = res.kind
        self._obj = obj
        self.raw = raw if raw is not None and raw.startswith(res.head) else encode(res, obj)
        self.rv = rv

    @property
    def obj(self):
        obj = self._obj
        if obj is None:
            # Two threads may both decode; either result is the same value.
            obj = self._obj = json.loads(self.raw)
        return obj

    def copy(self):
        return json.loads(self.raw)


class Event:
    __slots__ = ("rv", "type", "res", "key", "entry", "prev", "_line")

    def __init__(self, rv, etype, res, key, entry, prev):
        self.rv, self.type, self.res, self.key = rv, etype, res, key
        self.entry, self.prev = entry, prev
        self._line = None

    def line(self):
        """The watch line for a watcher without selectors, built once."""
        if self._line is None:
            self._line = b'{"type":"%s","object":%s}\n' % (self.type.encode(), self.entry.raw)
        return self._line


def new_uid():
    """A random (version 4) UUID; uuid.uuid4() reads os.urandom each time,
    which dominates creating ten thousand objects."""
    n = (random.getrandbits(128) & ~(0xF000 << 64) | (0x4000 << 64)) \
        & ~(0xC000 << 48) | (0x8000 << 48)
    h = "%032x" % n
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def continue_token(rv, last_key):
    doc = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": last_key + "\x00"},
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(doc.encode()).decode().rstrip("=")


def parse_continue(token):
    try:
        pad = "=" * (-len(token) % 4)
        doc = json.loads(base64.urlsafe_b64decode(token + pad))
        if doc.get("v") != "meta.k8s.io/v1" or not isinstance(doc.get("rv"), int) \
                or not isinstance(doc.get("start"), str):
            raise ValueError("bad fields")
        return doc["rv"], doc["start"]
    except (ValueError, binascii.Error, UnicodeDecodeError) as e:
        raise ApiError(400, "continue key is not valid: %s" % e)


def parse_rv(text, what="resourceVersion"):
    try:
        v = int(text)
        if v < 0:
            raise ValueError(text)
        return v
    except ValueError:
        raise ApiError(400, 'invalid %s: "%s"' % (what, text))


class Ctx:
    """What defaulting and validation may reach: the Service allocator."""

    def __init__(self, allocator):
        self.allocator = allocator


class Watch:
    """A registered watch stream (the HTTP layer runs it); `dropped` asks it
    to cut its connection."""

    __slots__ = ("dropped",)

    def __init__(self):
        self.dropped = False


class Store:
    def __init__(self, history=10000, service_cidrs=("10.96.0.0/12",), state=None):
        self.cond = threading.Condition(threading.Lock())
        self.rv = 0
        self.objects = {r.name: {} for r in RESOURCES}
        self._sorted = {r.name: None for r in RESOURCES}
        self.events = []
        self.event_rvs = []
        self.floor = 0          # resuming from rv < floor is too old
        self.history_max = max(1, history)
        self.allocator = apimodel.Allocator(service_cidrs)
        self.ctx = Ctx(self.allocator)
        self.watches = set()
        self.stopping = False
        self.stats = {"watchesStarted": 0, "eventsSent": 0, "bookmarksSent": 0,
                      "listsServed": 0, "watchesDropped": 0, "requests": 0}
        self.state_path = state
        self.journal = None

    # ---- bookkeeping ------------------------------------------------------

    def _sorted_keys(self, res):
        keys = self._sorted[res.name]
        if keys is None:
            keys = sorted(self.objects[res.name])
            self._sorted[res.name] = keys
        return keys

    def _commit(self, res, key, etype, obj):
        """Stores a change under the lock: the next resourceVersion, the
        object, the event, the journal line; wakes watchers."""
        self.rv += 1
        objs = self.objects[res.name]
        prev = objs.get(key)
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
        entry = Entry(res, obj, self.rv)
        if etype == "DELETED":
            del objs[key]
            self._sorted[res.name] = None
            if res.name == "services":
                self.allocator.release(key, prev.obj)
        else:
            if prev is None:
                self._sorted[res.name] = None
            objs[key] = entry
            if res.name == "services":
                if prev is not None:
                    self.allocator.release(key, prev.obj)
                self.allocator.hold(key, obj)
        ev = Event(self.rv, etype, res, key, entry, prev)
        self.events.append(ev)
        self.event_rvs.append(self.rv)
        if len(self.events) > self.history_max:
            drop = len(self.events) - self.history_max
            self.floor = self.events[drop - 1].rv
            del self.events[:drop]
            del self.event_rvs[:drop]
        if self.journal is not None:
            self.journal.write(b'{"rv":%d,"type":"%s","resource":"%s","object":%s}\n'
                               % (self.rv, etype.encode(), res.name.encode(), entry.raw))
            self.journal.flush()
        self.cond.notify_all()
        return entry

    # ---- create -----------------------------------------------------------

    @staticmethod
    def _generate_name(prefix):
        alphabet = "bcdfghjklmnpqrstvwxz2456789"
        return prefix + "".join(random.choice(alphabet) for _ in range(5))

    def create(self, res, ns, obj, dry_run=False):
        with self.cond:
            return self._create_locked(res, ns, obj, dry_run)

    def _create_locked(self, res, ns, obj, dry_run=False, keep_status=False):
        """keep_status: the object is installed as a controller or kubelet
        would have left it (preload), rather than as a client creates it."""
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = obj["metadata"] = {}
        if res.namespaced:
            if ns not in self.objects["namespaces"]:
                raise not_found(BY_NAME["namespaces"], ns)
            nsobj = self.objects["namespaces"][ns].obj
            if (nsobj.get("status") or {}).get("phase") == "Terminating":
                raise ApiError(403, '%s "%s" is forbidden: unable to create new content in '
                               'namespace %s because it is being terminated'
                               % (res.qualified, meta.get("name", ""), ns), "Forbidden",
                               _details(res, meta.get("name", "")))
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        name = meta.get("name") or ""
        if not name and meta.get("generateName"):
            for _ in range(20):
                name = self._generate_name(meta["generateName"])
                if res.key(ns, name) not in self.objects[res.name]:
                    break
            meta["name"] = name
        if not name:
            raise invalid(res, "", [FieldError("Required", "metadata.name", None,
                                               "name or generateName is required")])
        if meta.get("resourceVersion"):
            raise ApiError(500, "Internal error occurred: resourceVersion should not be set on "
                           "objects to be created", "InternalError",
                           {"causes": [{"message": "resourceVersion should not be set on "
                                                   "objects to be created"}]})
        for k in ("uid", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds",
                  "managedFields"):
            meta.pop(k, None)
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = apimodel.now_rfc3339()
        if res.generation:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        status = obj.get("status") if keep_status else None
        if res.status and not res.status_on_create:
            obj.pop("status", None)
        key = res.key(ns, name)
        try:
            if res.default:
                res.default(obj, None, self.ctx)
            if status is not None:
                obj["status"] = status
            errs = apimodel.validate_metadata(res, obj)
            if res.validate:
                errs += res.validate(obj, None, key, self.ctx)
        except InvalidError as e:
            errs = e.errors
        if errs:
            raise invalid(res, name, errs)
        if key in self.objects[res.name]:
            raise already_exists(res, name)
        if dry_run:
            return obj
        return self._commit(res, key, "ADDED", obj).obj

    # ---- update and patch --------------------------------------------------

    def _prepare_update(self, res, cur, new, subresource):
        old = cur.obj
        meta = new.get("metadata")
        if not isinstance(meta, dict):
            meta = new["metadata"] = {}
        ometa = old["metadata"]
        if meta.get("name", ometa["name"]) != ometa["name"]:
            raise ApiError(400, "the name of the object (%s) does not match the name on the URL "
                           "(%s)" % (meta.get("name"), ometa["name"]))
        if res.namespaced and meta.get("namespace", ometa["namespace"]) != ometa["namespace"]:
            raise ApiError(400, "the namespace of the provided object does not match the "
                           "namespace sent on the request")
        if meta.get("uid") and meta["uid"] != ometa["uid"]:
            raise conflict(res, ometa["name"], "Precondition failed: UID in precondition: %s, "
                           "UID in object meta: %s" % (meta["uid"], ometa["uid"]))
        if subresource == "status":
            # The status endpoint changes status (and metadata); spec stays.
            if "spec" in old:
                new["spec"] = json.loads(json.dumps(old["spec"]))
            else:
                new.pop("spec", None)
            if res.name == "pods":
                meta["ownerReferences"] = ometa.get("ownerReferences")
                if meta["ownerReferences"] is None:
                    del meta["ownerReferences"]
        elif res.status:
            if "status" in old:
                new["status"] = json.loads(json.dumps(old["status"]))
            else:
                new.pop("status", None)
        for k in ("name", "uid", "creationTimestamp", "deletionTimestamp",
                  "deletionGracePeriodSeconds", "namespace"):
            if k in ometa:
                meta[k] = ometa[k]
            else:
                meta.pop(k, None)
        meta.pop("selfLink", None)
        meta["resourceVersion"] = ometa["resourceVersion"]
        if res.generation == "spec":
            changed = new.get("spec") != old.get("spec")
        elif res.generation == "nonmeta":
            strip = ("metadata", "apiVersion", "kind")
            changed = {k: v for k, v in new.items() if k not in strip} != \
                {k: v for k, v in old.items() if k not in strip}
        else:
            changed = False
        if res.generation:
            meta["generation"] = ometa.get("generation", 1) + (1 if changed else 0)
        else:
            meta.pop("generation", None)
        key = res.key(ometa.get("namespace"), ometa["name"])
        try:
            if res.default:
                res.default(new, old, self.ctx)
            errs = apimodel.validate_metadata(res, new)
            if res.validate:
                errs += res.validate(new, old, key, self.ctx)
        except InvalidError as e:
            errs = e.errors
        if errs:
            raise invalid(res, ometa["name"], errs)
        new["apiVersion"], new["kind"] = res.api_version, res.kind
        return key

    def _finish_update(self, res, cur, new, subresource, dry_run):
        key = self._prepare_update(res, cur, new, subresource)
        if new == cur.obj:
            return cur.obj            # no change: no new resourceVersion, no event
        if dry_run:
            return new
        meta = new["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            # The last finalizer is gone: the deletion completes.
            entry = self._commit(res, key, "DELETED", new)
            self._after_delete(res, new)
            return entry.obj
        return self._commit(res, key, "MODIFIED", new).obj

    def _get_locked(self, res, ns, name):
        cur = self.objects[res.name].get(res.key(ns, name))
        if cur is None:
            raise not_found(res, name)
        return cur

    def update(self, res, ns, name, new, subresource=None, dry_run=False):
        with self.cond:
            cur = self._get_locked(res, ns, name)
            meta = new.get("metadata") if isinstance(new.get("metadata"), dict) else {}
            if meta.get("resourceVersion") and meta["resourceVersion"] != str(cur.rv):
                raise conflict(res, name)
            return self._finish_update(res, cur, new, subresource, dry_run)

    def patch(self, res, ns, name, apply, subresource=None, dry_run=False):
        """apply(current_dict) returns the patched dict (patch.py)."""
        with self.cond:
            cur = self._get_locked(res, ns, name)
            new = apply(cur.copy())
            if not isinstance(new, dict):
                raise ApiError(400, "the patched object is not a JSON object")
            meta = new.get("metadata")
            if isinstance(meta, dict) and meta.get("resourceVersion") \
                    and meta["resourceVersion"] != str(cur.rv):
                raise conflict(res, name)
            if new.get("apiVersion", res.api_version) != res.api_version \
                    or new.get("kind", res.kind) != res.kind:
                raise ApiError(400, "the patch may not change apiVersion or kind")
            return self._finish_update(res, cur, new, subresource, dry_run)

    def get(self, res, ns, name):
        with self.cond:
            return self._get_locked(res, ns, name)

    # ---- delete -----------------------------------------------------------

    def delete(self, res, ns, name, options=None, dry_run=False):
        options = options or {}
        with self.cond:
            cur = self._get_locked(res, ns, name)
            pre = options.get("preconditions") or {}
            meta = cur.obj["metadata"]
            if pre.get("uid") and pre["uid"] != meta["uid"]:
                raise conflict(res, name, "Precondition failed: UID in precondition: %s, UID in "
                               "object meta: %s" % (pre["uid"], meta["uid"]))
            if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
                raise conflict(res, name, "Precondition failed: ResourceVersion in precondition:"
                               " %s, ResourceVersion in object meta: %s"
                               % (pre["resourceVersion"], meta["resourceVersion"]))
            if dry_run:
                return cur.obj, True
            return self._delete_locked(res, cur)

    def _delete_locked(self, res, cur, finish_namespace=True):
        """Returns (object, deleted_now)."""
        key = res.key(cur.obj["metadata"].get("namespace"), cur.obj["metadata"]["name"])
        if res.name == "namespaces":
            return self._delete_namespace(cur), False
        if cur.obj["metadata"].get("finalizers"):
            if cur.obj["metadata"].get("deletionTimestamp"):
                return cur.obj, False
            obj = cur.copy()
            obj["metadata"]["deletionTimestamp"] = apimodel.now_rfc3339()
            obj["metadata"]["deletionGracePeriodSeconds"] = 0
            return self._commit(res, key, "MODIFIED", obj).obj, False
        entry = self._commit(res, key, "DELETED", cur.copy())
        if finish_namespace:
            self._after_delete(res, entry.obj)
        return entry.obj, True

    def _delete_namespace(self, cur):
        """What the namespace controller does, at once: the namespace turns
        Terminating, its content is deleted, then the namespace goes."""
        nsres = BY_NAME["namespaces"]
        name = cur.obj["metadata"]["name"]
        if cur.obj["metadata"].get("deletionTimestamp"):
            return cur.obj
        obj = cur.copy()
        obj["metadata"]["deletionTimestamp"] = apimodel.now_rfc3339()
        obj["metadata"]["deletionGracePeriodSeconds"] = 0
        obj.setdefault("status", {})["phase"] = "Terminating"
        entry = self._commit(nsres, name, "MODIFIED", obj)
        for res in RESOURCES:
            if not res.namespaced:
                continue
            prefix = name + "/"
            for key in [k for k in self._sorted_keys(res) if k.startswith(prefix)]:
                self._delete_locked(res, self.objects[res.name][key], finish_namespace=False)
        self._maybe_finish_namespace(name)
        return self.objects["namespaces"][name].obj if name in self.objects["namespaces"] \
            else entry.obj

    def _after_delete(self, res, obj):
        if res.namespaced:
            self._maybe_finish_namespace(obj["metadata"].get("namespace"))

    def _maybe_finish_namespace(self, ns):
        cur = self.objects["namespaces"].get(ns)
        if cur is None or not cur.obj["metadata"].get("deletionTimestamp"):
            return
        prefix = ns + "/"
        for res in RESOURCES:
            if not res.namespaced:
                continue
            keys = self._sorted_keys(res)
            i = bisect.bisect_left(keys, prefix)
            if i < len(keys) and keys[i].startswith(prefix):
                return
        if cur.obj["metadata"].get("finalizers"):
            return
        self._commit(BY_NAME["namespaces"], ns, "DELETED", cur.copy())

    def delete_collection(self, res, ns, lsel, fsel, dry_run=False):
        with self.cond:
            out = []
            for entry in self._range(res, ns, self.objects[res.name], self._sorted_keys(res), {}):
                if lsel and not lsel.matches(entry.obj["metadata"].get("labels")):
                    continue
                if fsel and not fsel.matches(entry.obj):
                    continue
                if dry_run:
                    out.append(entry.obj)
                    continue
                meta = entry.obj["metadata"]
                cur = self.objects[res.name].get(res.key(meta.get("namespace"), meta["name"]))
                if cur is not None:
                    out.append(self._delete_locked(res, cur)[0])
            return self.rv, out

    # ---- list ---------------------------------------------------------------

    def _range(self, res, ns, objs, keys, overlay, start=""):
        """Entries of the snapshot in key order from `start` (inclusive),
        restricted to namespace `ns` when given.  `overlay` maps keys to the
        entry they had at the snapshot (None: absent then)."""
        lo = start
        prefix = ""
        if res.namespaced and ns:
            prefix = ns + "/"
            lo = max(lo, prefix)
        i = bisect.bisect_left(keys, lo)
        extra = sorted(k for k in overlay if k >= lo)
        last = None
        for key in heapq.merge(keys[i:], extra) if extra else keys[i:]:
            if prefix and not key.startswith(prefix):
                break
            if key == last:
                continue
            last = key
            entry = overlay[key] if key in overlay else objs.get(key)
            if entry is not None:
                yield entry

    def current(self, res, ns):
        """Under the lock: the entries of res (in namespace ns, when given)
        in key order."""
        return self._range(res, ns, self.objects[res.name], self._sorted_keys(res), {})

    def _overlay(self, res, rv):
        """The keys of `res` changed after `rv`, each with its entry at rv."""
        overlay = {}
        i = bisect.bisect_right(self.event_rvs, rv)
        for ev in reversed(self.events[i:]):
            if ev.res is res:
                overlay[ev.key] = ev.prev
        return overlay

    def wait_for_rv(self, rv, timeout=3.0):
        """Blocks (lock held by caller) until the store reaches rv; False when it does not."""
        end = time.monotonic() + timeout
        while self.rv < rv:
            left = end - time.monotonic()
            if left <= 0:
                return False
            self.cond.wait(left)
        return True

    def too_large(self, rv):
        return ApiError(504, "Too large resource version: %d, current: %d" % (rv, self.rv),
                        "Timeout", {"causes": [{"reason": "ResourceVersionTooLarge",
                                                "message": "Too large resource version"}],
                                    "retryAfterSeconds": 1})

    def list(self, res, ns, lsel=None, fsel=None, limit=0, cont=None, rv=None, rv_match=None):
        """Returns (resourceVersion, entries, continue token, remainingItemCount)."""
        start = ""
        with self.cond:
            if cont:
                if rv not in (None, ""):
                    raise ApiError(400, "specifying resource version is not allowed when using "
                                   "continue")
                snap, start = parse_continue(cont)
                if snap < self.floor:
                    raise expired(
                        "The provided continue parameter is too old to display a consistent "
                        "list result. You can start a new list without the continue parameter, "
                        "or use the continue token in this response to retrieve the remainder "
                        "of the results. Continuing with the provided token results in an "
                        "inconsistent list - objects that were created, modified, or deleted "
                        "between the time the first chunk was returned and now may show up in "
                        "the list.",
                        {"continue": continue_token(self.rv, start[:-1] if start.endswith("\x00")
                                                    else start)})
            elif rv_match == "Exact":
                if rv in (None, ""):
                    raise ApiError(400, "resourceVersionMatch is forbidden unless "
                                   "resourceVersion is provided")
                snap = parse_rv(rv)
                if snap > self.rv and not self.wait_for_rv(snap):
                    raise self.too_large(snap)
                if snap < self.floor:
                    raise expired("too old resource version: %d (%d)" % (snap, self.floor))
            else:
                if rv_match not in (None, "", "NotOlderThan"):
                    raise ApiError(400, 'resourceVersionMatch: Unsupported value: "%s": supported'
                                   ' values: "Exact", "NotOlderThan"' % rv_match)
                if rv_match and rv in (None, ""):
                    raise ApiError(400, "resourceVersionMatch is forbidden unless "
                                   "resourceVersion is provided")
                if rv not in (None, "", "0"):
                    want = parse_rv(rv)
                    if want > self.rv and not self.wait_for_rv(want):
                        raise self.too_large(want)
                snap = self.rv
            overlay = self._overlay(res, snap) if snap < self.rv else {}
            keys = self._sorted_keys(res)
            objs = self.objects[res.name]
            out = []
            token = None
            remaining = None
            it = self._range(res, ns, objs, keys, overlay, start)
            for entry in it:
                if lsel and not lsel.matches(entry.obj["metadata"].get("labels")):
                    continue
                if fsel and not fsel.matches(entry.obj):
                    continue
                if limit and len(out) == limit:
                    last = out[-1].obj["metadata"]
                    token = continue_token(snap, res.key(last.get("namespace"), last["name"]))
                    if not lsel and not fsel:
                        remaining = 1 + sum(1 for _ in it)
                    break
                out.append(entry)
            self.stats["listsServed"] += 1
            return snap, out, token, remaining

    # ---- watch support ------------------------------------------------------

    def check_watch_start(self, rv):
        """Raises the 410 a watch from rv gets when its events are gone."""
        if rv < self.floor:
            raise expired("too old resource version: %d (%d)" % (rv, self.floor))

    def events_after(self, rv):
        i = bisect.bisect_right(self.event_rvs, rv)
        return self.events[i:]

    def watches_register(self):
        """Under the lock: a new watch, counted in the stats."""
        w = Watch()
        self.watches.add(w)
        self.stats["watchesStarted"] += 1
        return w

    def watches_unregister(self, w):
        if w is None:
            return
        with self.cond:
            self.watches.discard(w)
            self.cond.notify_all()

    def compact(self):
        with self.cond:
            self.floor = self.rv
            self.events = []
            self.event_rvs = []
            return self.rv

    def drop_watches(self, wait=5.0):
        with self.cond:
            victims = list(self.watches)
            for w in victims:
                w.dropped = True
            self.cond.notify_all()
            end = time.monotonic() + wait
            while any(w in self.watches for w in victims) and time.monotonic() < end:
                self.cond.wait(0.05)
            self.stats["watchesDropped"] += len(victims)
            return len(victims)

    def snapshot_stats(self):
        with self.cond:
            out = dict(self.stats)
            out.update({"watches": len(self.watches), "resourceVersion": str(self.rv),
                        "historyEvents": len(self.events), "oldestResumableVersion":
                        str(self.floor),
                        "objects": {r.name: len(self.objects[r.name]) for r in RESOURCES}})
            return out

    # ---- persistence and preload ----------------------------------------------

    # The state file is line-oriented so loading reuses each object's bytes:
    #   {"kind":"K8sTestApiserverState","resourceVersion":"N","floor":F,
    #    "objects":C,"history":H}
    #   C lines: RESOURCE <tab> KEY <tab> RV <tab> the stored object
    #   H times: {"rv":..,"type":..,"resource":..,"key":..}, then the object
    #            and the previous one (or null), each as RV <tab> bytes
    # The journal (FILE.journal) has one line per change after the snapshot:
    #   {"rv":..,"type":..,"resource":..,"object":{...}}

    @staticmethod
    def _entry_from(res, text):
        rv, _, raw = text.rstrip(b"\n").partition(b"\t")
        if raw == b"null":
            return None
        return Entry(res, None, int(rv), raw)

    def _load_snapshot(self, f):
        head = json.loads(f.readline())
        if head.get("kind") != "K8sTestApiserverState":
            raise ValueError("%s is not a state file of apiserver.py" % self.state_path)
        self.rv = int(head["resourceVersion"])
        self.floor = int(head.get("floor", self.rv))
        by_rv = {}
        for _ in range(head["objects"]):
            name, key, rest = f.readline().split(b"\t", 2)
            res, key = BY_NAME[name.decode()], key.decode()
            entry = self._entry_from(res, rest)
            self.objects[res.name][key] = entry
            if res.name == "services":
                self.allocator.hold(key, entry.obj)
            by_rv[(res.name, key, entry.rv)] = entry
        for res in RESOURCES:
            self._sorted[res.name] = None
        for _ in range(head["history"]):
            ev = json.loads(f.readline())
            res = BY_NAME[ev["resource"]]
            entries = []
            for line in (f.readline(), f.readline()):
                # Objects still current share their entry with the store.
                entry = self._entry_from(res, line)
                if entry is not None:
                    entry = by_rv.get((res.name, ev["key"], entry.rv), entry)
                entries.append(entry)
            self.events.append(Event(ev["rv"], ev["type"], res, ev["key"], entries[0],
                                     entries[1]))
            self.event_rvs.append(ev["rv"])

    def _replay_journal(self, f):
        replayed = False
        for line in f:
            try:
                ev = json.loads(line)
            except ValueError:
                break        # a line cut short by a kill: that change never completed
            if ev["rv"] <= self.rv:
                continue
            res = BY_NAME[ev["resource"]]
            obj = ev["object"]
            key = res.key(obj["metadata"].get("namespace"), obj["metadata"]["name"])
            entry = Entry(res, obj, ev["rv"])
            if ev["type"] == "DELETED":
                prev = self._remove(res, key)
            else:
                prev = self._remove(res, key)
                self._install_entry(res, entry)
            self.rv = ev["rv"]
            self.events.append(Event(ev["rv"], ev["type"], res, key, entry, prev))
            self.event_rvs.append(ev["rv"])
            replayed = True
        return replayed

    def _install_entry(self, res, entry):
        obj = entry.obj
        key = res.key(obj["metadata"].get("namespace"), obj["metadata"]["name"])
        self.objects[res.name][key] = entry
        self._sorted[res.name] = None
        if res.name == "services":
            self.allocator.hold(key, obj)
        return key

    def _remove(self, res, key):
        prev = self.objects[res.name].pop(key, None)
        self._sorted[res.name] = None
        if prev is not None and res.name == "services":
            self.allocator.release(key, prev.obj)
        return prev

    def load_state(self):
        """Loads the snapshot and replays the journal after it; False when
        there was no state."""
        path = self.state_path
        if not path:
            return False
        loaded = False
        with self.cond:
            if os.path.exists(path):
                with open(path, "rb") as f:
                    self._load_snapshot(f)
                loaded = True
            if os.path.exists(path + ".journal"):
                with open(path + ".journal", "rb") as f:
                    loaded = self._replay_journal(f) or loaded
            if len(self.events) > self.history_max:
                drop = len(self.events) - self.history_max
                self.floor = max(self.floor, self.events[drop - 1].rv)
                del self.events[:drop]
                del self.event_rvs[:drop]
        return loaded

    def write_snapshot(self):
        """Writes the state file (atomically) and starts a new journal."""
        if not self.state_path:
            return
        with self.cond:
            tmp = self.state_path + ".tmp"
            count = sum(len(self.objects[r.name]) for r in RESOURCES)
            with open(tmp, "wb") as f:
                f.write(b'{"kind":"K8sTestApiserverState","resourceVersion":"%d","floor":%d,'
                        b'"objects":%d,"history":%d}\n' % (self.rv, self.floor, count,
                                                             len(self.events)))
                for res in RESOURCES:
                    name = res.name.encode()
                    for key, entry in self.objects[res.name].items():
                        f.write(b"%s\t%s\t%d\t%s\n" % (name, key.encode(), entry.rv,
                                                         entry.raw))
                for ev in self.events:
                    f.write(b'{"rv":%d,"type":"%s","resource":"%s","key":%s}\n%d\t%s\n'
                            % (ev.rv, ev.type.encode(), ev.res.name.encode(),
                               json.dumps(ev.key).encode(), ev.entry.rv, ev.entry.raw))
                    f.write(b"%d\t%s\n" % (ev.prev.rv, ev.prev.raw) if ev.prev
                            else b"0\tnull\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.state_path)
            if self.journal is not None:
                self.journal.close()
            self.journal = open(self.state_path + ".journal", "wb")

    def close(self):
        with self.cond:
            if self.journal is not None:
                self.journal.close()
                self.journal = None

    def ensure_default_namespaces(self):
        with self.cond:
            for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
                if ns not in self.objects["namespaces"]:
                    self._create_locked(BY_NAME["namespaces"], None,
                                        {"metadata": {"name": ns}})

    def preload(self, items):
        """Creates each object that is not there yet, namespaces and nodes
        first.  Returns (created, skipped)."""
        order = {"Namespace": 0, "Node": 1}
        items = sorted(items, key=lambda o: order.get(o.get("kind"), 2))
        created = skipped = 0
        with self.cond:
            for obj in items:
                res = BY_KIND.get((obj.get("apiVersion"), obj.get("kind")))
                if res is None:
                    raise ValueError("preload: unsupported kind %s %s"
                                     % (obj.get("apiVersion"), obj.get("kind")))
                meta = obj.get("metadata") or {}
                ns = (meta.get("namespace") or "default") if res.namespaced else None
                if res.key(ns, meta.get("name", "")) in self.objects[res.name]:
                    skipped += 1
                    continue
                try:
                    self._create_locked(res, ns, obj, keep_status=True)
                except ApiError as e:
                    raise ValueError("preload: %s %s: %s" % (res.kind, meta.get("name"),
                                                              e.message))
                created += 1
        return created, skipped
