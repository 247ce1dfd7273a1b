"""Label and field selectors with the grammar and semantics of
k8s.io/apimachinery (labels.Parse, fields.ParseSelector).

Label selectors: comma-separated requirements, each one of
    key            key exists            !key        key does not exist
    key=v  key==v  equal                 key!=v      not equal (or absent)
    key in (a,b)   one of                key notin (a,b)  none of (or absent)
    key>N  key<N   integer comparison
Field selectors: comma-separated key=v, key==v, key!=v; backslash escapes
",", "=" and "\\" in values.
"""

import re

__all__ = ["SelectorError", "LabelSelector", "FieldSelector", "check_key", "check_value"]


class SelectorError(ValueError):
    """A selector that does not parse; the message is for a 400 Status."""


_SPECIAL = "!=,()<>"
_NAME_RE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_PREFIX_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def check_key(key):
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or not _PREFIX_RE.match(prefix)):
        raise SelectorError("unable to parse requirement: invalid label key %r: prefix part "
                            "must be a DNS-1123 subdomain" % key)
    if not name or len(name) > 63 or not _NAME_RE.match(name):
        raise SelectorError("unable to parse requirement: invalid label key %r: name part must "
                            "consist of alphanumeric characters, '-', '_' or '.', and must "
                            "start and end with an alphanumeric character" % key)


def check_value(value):
    if len(value) > 63 or not _NAME_RE.match(value):
        raise SelectorError("unable to parse requirement: invalid label value: %r: a valid label "
                            "must be an empty string or consist of alphanumeric characters, '-', "
                            "'_' or '.', and must start and end with an alphanumeric character"
                            % value)


def _tokens(text):
    """Splits a label selector into identifiers and operators."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif text.startswith(("!=", "=="), i):
            out.append(text[i:i + 2])
            i += 2
        elif c in _SPECIAL:
            out.append(c)
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _SPECIAL:
                j += 1
            out.append(("id", text[i:j]))
            i = j
    return out


class LabelSelector:
    """A parsed label selector; matches(labels) tests a labels dict."""

    def __init__(self, text):
        self.text = text or ""
        self.reqs = self._parse(_tokens(self.text))

    def __bool__(self):
        return bool(self.reqs)

    @staticmethod
    def _parse(toks):
        reqs = []
        pos = 0

        def peek():
            return toks[pos] if pos < len(toks) else None

        while pos < len(toks):
            tok = toks[pos]
            pos += 1
            if tok == "!":
                key = peek()
                if not isinstance(key, tuple):
                    raise SelectorError("unable to parse requirement: expected a key after '!'")
                pos += 1
                check_key(key[1])
                reqs.append((key[1], "!", ()))
            elif isinstance(tok, tuple):
                key = tok[1]
                check_key(key)
                op = peek()
                if op is None or op == ",":
                    reqs.append((key, "exists", ()))
                elif op in ("=", "==", "!="):
                    pos += 1
                    val = peek()
                    if isinstance(val, tuple):
                        pos += 1
                        val = val[1]
                    else:
                        val = ""
                    check_value(val)
                    reqs.append((key, "!=" if op == "!=" else "=", (val,)))
                elif op in ("<", ">"):
                    pos += 1
                    val = peek()
                    if not isinstance(val, tuple) or not re.match(r"^-?[0-9]+$", val[1]):
                        raise SelectorError("unable to parse requirement: for 'Gt', 'Lt' "
                                            "operators, the value must be an integer")
                    pos += 1
                    reqs.append((key, op, (int(val[1]),)))
                elif isinstance(op, tuple) and op[1] in ("in", "notin"):
                    pos += 1
                    if peek() != "(":
                        raise SelectorError("unable to parse requirement: found %r, expected: '('"
                                            % (peek(),))
                    pos += 1
                    values = []
                    while True:
                        t = peek()
                        if t == ")":
                            pos += 1
                            break
                        if isinstance(t, tuple):
                            check_value(t[1])
                            values.append(t[1])
                            pos += 1
                        elif t == ",":
                            pos += 1
                            if peek() in (",", ")"):
                                values.append("")
                        else:
                            raise SelectorError("unable to parse requirement: found %r, expected: "
                                                "',', ')' or identifier" % (t,))
                    if not values:
                        raise SelectorError("unable to parse requirement: for 'in', 'notin' "
                                            "operators, values set can't be empty")
                    reqs.append((key, op[1], tuple(values)))
                else:
                    raise SelectorError("unable to parse requirement: found %r, expected: in, "
                                        "notin, =, ==, !=, gt, lt" % (op if not isinstance(op, tuple)
                                                                      else op[1],))
            else:
                raise SelectorError("unable to parse requirement: found %r, expected: !, "
                                    "identifier" % (tok,))
            nxt = peek()
            if nxt is None:
                break
            if nxt != ",":
                raise SelectorError("found %r, expected: ',' or 'end of string'"
                                    % (nxt if not isinstance(nxt, tuple) else nxt[1],))
            pos += 1
            if peek() is None:
                raise SelectorError("found 'end of string', expected: !, identifier")
        return reqs

    def matches(self, labels):
        labels = labels or {}
        for key, op, values in self.reqs:
            present = key in labels
            if op == "exists":
                if not present:
                    return False
            elif op == "!":
                if present:
                    return False
            elif op == "=" or op == "in":
                if not present or labels[key] not in values:
                    return False
            elif op == "!=" or op == "notin":
                if present and labels[key] in values:
                    return False
            else:
                try:
                    have = int(labels[key]) if present else None
                except ValueError:
                    return False
                if have is None or (have <= values[0] if op == ">" else have >= values[0]):
                    return False
        return True


def _split_unescaped(text, sep):
    parts, cur, i = [], [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            cur.append(text[i:i + 2])
            i += 2
            continue
        if c == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def _unescape(value):
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "\\":
            if i + 1 >= len(value) or value[i + 1] not in "\\,=":
                raise SelectorError("invalid field selector: invalid escape sequence in %r" % value)
            out.append(value[i + 1])
            i += 2
            continue
        if c in ",=":
            raise SelectorError("invalid field selector: unescaped %r in value %r" % (c, value))
        out.append(c)
        i += 1
    return "".join(out)


def _find_operator(term):
    i = 0
    while i < len(term):
        if term[i] == "\\":
            i += 2
            continue
        for op in ("!=", "==", "="):
            if term.startswith(op, i):
                return i, op
        i += 1
    return -1, None


class FieldSelector:
    """A parsed field selector.  `fields` maps each supported field name to a
    function returning that field of an object as a string."""

    def __init__(self, text, fields):
        self.text = text or ""
        self.terms = []
        if not self.text.strip():
            return
        for term in _split_unescaped(self.text, ","):
            if not term:
                continue
            at, op = _find_operator(term)
            if op is None:
                raise SelectorError("invalid selector: '%s'; can't understand '%s'"
                                    % (self.text, term))
            field = term[:at].strip()
            value = _unescape(term[at + len(op):])
            if field not in fields:
                raise SelectorError("field label not supported: %s" % field)
            self.terms.append((fields[field], op != "!=", value))

    def __bool__(self):
        return bool(self.terms)

    def matches(self, obj):
        for getter, equal, value in self.terms:
            if (getter(obj) == value) != equal:
                return False
        return True
