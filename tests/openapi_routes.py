#!/usr/bin/env python3
"""docs/openapi.yaml lists every route llaved serves (issue 14 item 2): the
route tables of src/http/*.c ({"METHOD", "/pattern", ...} and
HTTP_GET_PUBLIC("/pattern", ...)) against the paths of the description,
both ways, each method included.  Read with regular expressions so that no
YAML module is needed."""
import glob
import os
import re
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..")


def served():
    routes = set()
    for path in glob.glob(os.path.join(SRC, "src", "http", "*.c")):
        with open(path) as f:
            text = f.read()
        rows = [(m.group(1), m.group(2)) for m in re.finditer(
            r'\{"(GET|POST|PUT|DELETE)",\s*"(/[^"]*)"', text)]
        # HTTP_GET_PUBLIC(pattern, handler): a whole GET row (http_internal.h)
        rows += [("GET", m.group(1)) for m in re.finditer(
            r'HTTP_GET_PUBLIC\(\s*"(/[^"]*)"', text)]
        for method, pattern in rows:
            pattern = re.sub(r"\{(\w+)\*\}", r"{\1}", pattern)
            routes.add((method.lower(), pattern))
    return routes


def described():
    routes, path = set(), None
    with open(os.path.join(SRC, "docs", "openapi.yaml")) as f:
        for line in f:
            m = re.match(r"^  (/\S*):\s*$", line)
            if m:
                path = m.group(1)
                continue
            m = re.match(r"^    (get|post|put|delete):", line)
            if m and path:
                routes.add((m.group(1), path))
    return routes


def main():
    s, d = served(), described()
    # the /csc/ fallback answers every other path and method (404/405)
    missing = sorted(r for r in s - d if not r[1].startswith("/csc/{rest"))
    stale = sorted(r for r in d - s if not r[1].startswith("/csc/{rest"))
    for r in missing:
        print(f"served, not in docs/openapi.yaml: {r[0].upper()} {r[1]}")
    for r in stale:
        print(f"in docs/openapi.yaml, not served: {r[0].upper()} {r[1]}")
    print(f"{len(s)} routes served, {len(d)} described")
    return 1 if missing or stale else 0


if __name__ == "__main__":
    sys.exit(main())
