"""The offline cache of what lessons otherwise fetch from the network, pinned by version and sha256.

`gateway-tutorial assets fetch` downloads each pinned file into `state_dir()/assets/`; lessons
then use the cached copy (`localize(url)`). A file whose sha256 is not the pinned one is never
used or kept. With offline mode on, nothing touches the network and what is missing is named.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 16 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30.0


@dataclass(frozen=True)
class Asset:
    """One pinned file: where it comes from, what it must hash to, and where it is cached."""

    name: str       # file name in the cache
    url: str
    sha256: str
    what: str
    note: str = ""


# The pins, in one place. The sha256 below is that of the v1.3.0 standard-install.yaml assembled
# from the tagged sources (hack/build-install-yaml.sh at v1.3.0, year 2025). UNCONFIRMED: that it is
# byte-identical to the GitHub release asset; if the release was built in another year, its copyright
# line differs and `assets fetch` refuses it with a checksum mismatch. Verify and update it here.
GATEWAY_API_STANDARD = Asset(
    name="gateway-api-v1.3.0-standard-install.yaml",
    url="https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.3.0/standard-install.yaml",
    sha256="78796d5c51450fc55d8dc8092ba8137f8c807982d7508d7875d5c537a24082b9",
    what="Gateway API v1.3.0 CRDs, standard channel (lesson 3)",
    note="sha256 of the assembled v1.3.0 file; equality with the release asset is unconfirmed",
)
ASSETS: tuple[Asset, ...] = (GATEWAY_API_STANDARD,)


class AssetError(Exception):
    """A download or checksum problem; the message names the file and the next step."""


def cache_dir() -> Path:
    from tutorial.paths import state_dir

    return state_dir() / "assets"


def offline_mode() -> bool:
    """True when GATEWAY_TUTORIAL_OFFLINE is set to a true value (the global --offline sets it)."""
    return os.environ.get("GATEWAY_TUTORIAL_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def by_url(url: str) -> Asset | None:
    return next((a for a in ASSETS if a.url == url), None)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def cached(asset: Asset, directory: Path | None = None) -> tuple[Path | None, str]:
    """(path, "") when a good copy is cached, else (None, why not)."""
    path = (directory or cache_dir()) / asset.name
    if not path.is_file():
        return None, "not cached"
    actual = sha256_of(path)
    if actual != asset.sha256:
        return None, f"cached copy {path} has sha256 {actual}, expected {asset.sha256}; it is not used"
    return path, ""


def localize(url: str, directory: Path | None = None) -> Path | None:
    """The verified cached copy of a pinned URL, or None (unknown URL, not cached, or bad checksum)."""
    asset = by_url(url)
    if asset is None:
        return None
    return cached(asset, directory)[0]


def offline_problem(argv: list[str], directory: Path | None = None) -> str | None:
    """In offline mode: a sentence naming the URLs in argv that would need the network, else None."""
    needs = [a for a in argv if a.startswith(("https://", "http://")) and localize(a, directory) is None]
    if not needs:
        return None
    return (f"offline mode: this command would download {', '.join(needs)}, which is not in the asset cache "
            f"({directory or cache_dir()}). While online, run `gateway-tutorial assets fetch`; or turn offline "
            "mode off.")


@dataclass
class FetchResult:
    asset: Asset
    state: str      # cached | fetched | missing | failed
    detail: str
    path: Path | None = None

    def to_json(self) -> dict:
        return {"name": self.asset.name, "url": self.asset.url, "sha256": self.asset.sha256,
                "state": self.state, "detail": self.detail, "path": str(self.path) if self.path else None}


def source_for(asset: Asset, mirror: str | None) -> str:
    """The pinned URL, or the same file name under a mirror (a URL or a directory)."""
    if not mirror:
        return asset.url
    if "://" in mirror:
        return mirror.rstrip("/") + "/" + asset.name
    return Path(mirror).joinpath(asset.name).resolve().as_uri()


def fetch_one(asset: Asset, *, offline: bool = False, mirror: str | None = None,
              directory: Path | None = None) -> FetchResult:
    """Make sure a verified copy is cached: keep a good one, else download (unless offline)."""
    directory = directory or cache_dir()
    path, why = cached(asset, directory)
    if path is not None:
        return FetchResult(asset, "cached", f"already cached, sha256 verified: {path}", path)
    if offline:
        return FetchResult(asset, "missing", f"{why}; offline, so not downloaded. While online run "
                           "`gateway-tutorial assets fetch`, or copy the file into the cache with --mirror DIR.")
    source = source_for(asset, mirror)
    try:
        data = _download(source)
    except AssetError as exc:
        return FetchResult(asset, "failed", str(exc))
    actual = hashlib.sha256(data).hexdigest()
    if actual != asset.sha256:
        return FetchResult(asset, "failed", f"checksum mismatch for {source}: got sha256 {actual}, expected "
                           f"{asset.sha256}. The file was not saved; it is not the pinned {asset.what}.")
    path = directory / asset.name
    _write_atomic(path, data)
    return FetchResult(asset, "fetched", f"downloaded from {source}, sha256 verified", path)


def fetch_all(*, offline: bool = False, mirror: str | None = None, directory: Path | None = None) -> list[FetchResult]:
    return [fetch_one(a, offline=offline, mirror=mirror, directory=directory) for a in ASSETS]


def _download(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "gateway-tutorial-assets"})
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT) as resp:
            data = resp.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise AssetError(f"{url}: the server answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AssetError(f"cannot download {url}: {reason}. Check the network (or use --mirror with a "
                         "local copy).") from exc
    if len(data) > MAX_BYTES:
        raise AssetError(f"{url} is larger than {MAX_BYTES} bytes; that is not the pinned file")
    return data


def _write_atomic(path: Path, data: bytes) -> None:
    """Temp file in the same directory, fsync, rename: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
