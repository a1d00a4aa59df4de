"""Regenerate the conformance data from a Gateway API v1.3.0 checkout (maintainers only, not run by tests).

    python tests/sandbox/conformance/adapt.py PATH_TO_GATEWAY_API_GIT_DIR

- manifests/*.yaml: the upstream conformance manifests with `{GATEWAY_CLASS_NAME}` set to `istio`
  (base.yaml keeps only what HTTP tests use: no gRPC, TLS-backend or CoreDNS objects).
- expectations/*.yaml: each Go test's `[]http.ExpectedResponse{...}` tables turned into data, in
  source order, one list per table. Our reader below understands Go composite literals of
  strings, numbers, maps, slices and structs; a table that builds values with code is skipped
  and listed in the output, so its expectations are written by hand in cases.yaml instead.
The expectations are upstream's facts; which Gateway and port each table targets, which statuses
are checked, and which tests are left out and why are ours (cases.yaml).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
TAG = "v1.3.0"
BASE_DROP = ("grpc-", "tls-backend", "coredns")
_TOKEN = re.compile(r'\s+|//[^\n]*|"(?:\\.|[^"\\])*"|`[^`]*`|[A-Za-z_][\w.]*|\d+|&|[{}\[\](),:]')


class Unsupported(Exception):
    """A table built with code (function calls, loops): port it by hand."""


def tokens(text: str) -> tuple[list[str], list[int]]:
    """Go tokens of text and the offset just after each one."""
    toks, ends = [], []
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok.strip() and not tok.startswith("//"):
            toks.append(tok)
            ends.append(m.end())
    return toks, ends


class Reader:
    def __init__(self, toks: list[str], variables: dict[str, str]) -> None:
        self.t, self.i, self.vars = toks, 0, variables

    def peek(self, k: int = 0) -> str:
        return self.t[self.i + k]

    def take(self, want: str | None = None) -> str:
        tok = self.t[self.i]
        if want is not None and tok != want:
            raise Unsupported(f"expected {want!r}, got {tok!r}")
        self.i += 1
        return tok

    def skip_type(self) -> str:
        """Consume a type ([]T, map[K]V, pkg.T, &pkg.T) up to its `{`; return the kind."""
        kind = "struct"
        if self.peek() == "&":
            self.take()
        if self.peek() == "[":
            self.take("[")
            self.take("]")
            self.take()
            return "list"
        if self.peek() == "map":
            self.take()
            self.take("[")
            self.take()
            self.take("]")
            self.take()
            return "map"
        self.take()
        return kind

    def value(self):
        tok = self.peek()
        if tok.startswith('"'):
            self.take()
            return bytes(tok[1:-1], "utf-8").decode("unicode_escape")
        if tok.startswith("`"):
            self.take()
            return tok[1:-1]
        if tok.isdigit():
            self.take()
            return int(tok)
        if tok in ("true", "false", "nil"):
            self.take()
            return {"true": True, "false": False, "nil": None}[tok]
        if tok == "{":
            return self.composite(None)
        if tok in ("&", "[", "map") or (self.i + 1 < len(self.t) and self.t[self.i + 1] == "{"):
            kind = self.skip_type()
            return self.composite(kind)
        if self.i + 1 < len(self.t) and self.t[self.i + 1] == "(":
            if tok not in ("ptr.To", "int32", "int64", "string"):
                raise Unsupported(f"call {tok}(...)")
            self.take()
            self.take("(")
            inner = self.value()  # ptr.To(int32(20)) is just 20 as data
            self.take(")")
            return inner
        self.take()
        if tok in self.vars:
            return self.vars[tok]
        raise Unsupported(f"variable {tok}")

    def composite(self, kind: str | None):
        self.take("{")
        if kind is None:  # elided type inside a slice: a struct or a map
            kind = "map" if self.peek().startswith('"') and self.peek(1) == ":" else (
                "struct" if self.peek(1) == ":" else "list")
        out: list | dict = [] if kind == "list" else {}
        while self.peek() != "}":
            if kind == "list":
                out.append(self.value())
            else:
                k = self.take()
                k = k[1:-1] if k.startswith('"') else k
                self.take(":")
                out[k] = self.value()
            if self.peek() == ",":
                self.take()
        self.take("}")
        return out


def tables(go_source: str) -> tuple[list[dict], list[str]]:
    """Every ExpectedResponse literal of a Go test, flattened in source order (tables and singles)."""
    variables = dict(re.findall(r'\b(\w+)\s*:?=\s*"([^"]*)"', go_source))
    found, skipped, pos = [], [], 0
    pattern = re.compile(r"(\[\])?http\.ExpectedResponse\{")
    while (m := pattern.search(go_source, pos)) is not None:
        toks, ends = tokens(go_source[m.start():])
        reader = Reader(toks, variables)
        try:
            value = reader.value()
            found.extend(value if isinstance(value, list) else [value])
            pos = m.start() + ends[reader.i - 1]
        except (Unsupported, IndexError) as exc:
            skipped.append(f"literal at offset {m.start()}: {exc}")
            pos = m.end()
    return found, skipped


def show(gitdir: str, path: str) -> str:
    return subprocess.run(["git", "-C", gitdir, "show", f"{TAG}:{path}"], capture_output=True, text=True,
                          check=True).stdout


def adapt_manifest(text: str) -> str:
    return text.replace("{GATEWAY_CLASS_NAME}", "istio").replace("{GATEWAY_CONTROLLER_NAME}", "istio.io/gateway-controller")


def base(gitdir: str) -> str:
    docs = [d for d in yaml.safe_load_all(adapt_manifest(show(gitdir, "conformance/base/manifests.yaml"))) if d]
    keep = [d for d in docs if not d["metadata"]["name"].startswith(BASE_DROP)]
    return yaml.safe_dump_all(keep, sort_keys=False)


def main(gitdir: str) -> None:
    cases = yaml.safe_load((HERE / "cases.yaml").read_text())
    (HERE / "manifests" / "base.yaml").write_text(base(gitdir))
    for case in cases["ported"]:
        for manifest in case.get("manifests", []):
            text = adapt_manifest(show(gitdir, f"conformance/tests/{manifest}"))
            (HERE / "manifests" / manifest).write_text(text)
        if case.get("source") and not case.get("by_hand"):
            found, skipped = tables(show(gitdir, f"conformance/tests/{case['source']}"))
            (HERE / "expectations" / f"{case['name']}.yaml").write_text(yaml.safe_dump(found, sort_keys=False))
            for line in skipped:
                print(f"{case['name']}: skipped {line}")


if __name__ == "__main__":
    main(sys.argv[1])
