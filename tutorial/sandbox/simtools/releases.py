"""Helm 3 release records, stored as real Helm stores them: Secrets `sh.helm.release.v1.<name>.v<N>`.

The Secret has type helm.sh/release.v1, labels name/owner/status/version, and `data.release`
holding base64(gzip(JSON release)) — base64 once more by the Secret encoding, like Helm's driver.
"""

from __future__ import annotations

import base64
import datetime
import gzip
import json

from tutorial.sandbox.simtools.kube import Kube

SECRET_TYPE = "helm.sh/release.v1"


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def helm_time(ts: datetime.datetime) -> str:
    """Helm's list format: 2026-11-27 13:29:02.123456789 +0000 UTC."""
    return ts.strftime("%Y-%m-%d %H:%M:%S.%f") + "000 +0000 UTC"


def encode(release: dict) -> str:
    packed = base64.b64encode(gzip.compress(json.dumps(release).encode())).decode()
    return base64.b64encode(packed.encode()).decode()  # the Secret's own base64 layer


def decode(data: str) -> dict:
    packed = base64.b64decode(base64.b64decode(data))
    return json.loads(gzip.decompress(packed) if packed[:2] == b"\x1f\x8b" else packed)


def secret_name(name: str, version: int) -> str:
    return f"sh.helm.release.v1.{name}.v{version}"


def history(kube: Kube, namespace: str | None, name: str | None = None) -> list[dict]:
    """Release records (newest version last), optionally for one release name."""
    selector = "owner=helm" + (f",name={name}" if name else "")
    out = []
    for secret in kube.list("Secret", namespace, selector):
        if secret.get("type") != SECRET_TYPE:
            continue
        try:
            out.append(decode((secret.get("data") or {}).get("release", "")))
        except (ValueError, OSError):
            continue
    return sorted(out, key=lambda r: (r.get("namespace", ""), r.get("name", ""), r.get("version", 0)))


def latest(kube: Kube, namespace: str, name: str) -> dict | None:
    records = history(kube, namespace, name)
    return records[-1] if records else None


def deployed(kube: Kube, namespace: str | None) -> list[dict]:
    """The newest record of each release (what `helm list` shows)."""
    newest: dict[tuple[str, str], dict] = {}
    for rec in history(kube, namespace):
        newest[(rec["namespace"], rec["name"])] = rec
    return [r for r in newest.values() if r["info"]["status"] != "uninstalled"]


def save(kube: Kube, release: dict) -> None:
    """Write a record; the previous deployed one becomes superseded."""
    name, ns, version = release["name"], release["namespace"], release["version"]
    for old in history(kube, ns, name):
        if old["version"] < version and old["info"]["status"] == "deployed":
            old["info"]["status"] = "superseded"
            _write(kube, old)
    _write(kube, release)


def _write(kube: Kube, release: dict) -> None:
    name, version = release["name"], release["version"]
    secret = {"apiVersion": "v1", "kind": "Secret", "type": SECRET_TYPE,
              "metadata": {"name": secret_name(name, version), "namespace": release["namespace"],
                           "labels": {"name": name, "owner": "helm", "status": release["info"]["status"],
                                      "version": str(version),
                                      "modifiedAt": str(int(now().timestamp()))}},
              "data": {"release": encode(release)}}
    kube.apply(secret)


def forget(kube: Kube, namespace: str, name: str) -> None:
    """Delete every record of a release (helm uninstall without --keep-history)."""
    for rec in history(kube, namespace, name):
        kube.delete("Secret", namespace, secret_name(name, rec["version"]))


def new_record(name: str, namespace: str, chart: str, version: str, values: dict, manifest: list[dict],
               revision: int, notes: str, first: str | None = None) -> dict:
    stamp = now().isoformat()
    return {"name": name, "namespace": namespace, "version": revision,
            "info": {"first_deployed": first or stamp, "last_deployed": stamp, "deleted": "",
                     "description": "Install complete" if revision == 1 else "Upgrade complete",
                     "status": "deployed", "notes": notes},
            "chart": {"metadata": {"name": chart, "version": version, "appVersion": version,
                                   "apiVersion": "v2", "description": "SIMULATED chart (gateway-tutorial sandbox)"}},
            "config": values, "manifest": render_manifest(chart, manifest)}


def render_manifest(chart: str, objects: list[dict]) -> str:
    """The release's manifest text. libyaml's emitter when present: the pure-Python one costs
    ~0.1 s of CPU per chart, on every install of every cluster of a fleet.

    Without YAML anchors, as Helm's rendered templates are: a schema dict the charts share between
    a CRD's versions came out as `&id001` / `*id001`, and a manifest with an anchor is read by the
    bounded pure-Python loader (safeyaml.fast_load_all) — ~0.3 s of CPU for istio/base, in every
    reset (its uninstall plan) and every `helm upgrade` of it."""
    import yaml

    return "".join(f"---\n# Source: {chart}/templates/{o['kind'].lower()}.yaml\n"
                   + yaml.dump(o, Dumper=_dumper(), sort_keys=False) for o in objects)


_DUMPER: list = []


def _dumper():
    """libyaml's SafeDumper (or PyYAML's) that writes a shared object out again instead of aliasing it."""
    if not _DUMPER:
        import yaml

        class NoAliases(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
            def ignore_aliases(self, data) -> bool:
                return True
        _DUMPER.append(NoAliases)
    return _DUMPER[0]


def manifest_objects(release: dict) -> list[dict]:
    from tutorial.lessons.safeyaml import fast_load_all

    return [d for d in fast_load_all(release.get("manifest") or "") if d]
