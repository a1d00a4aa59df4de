"""The offline asset cache: download from a loopback server, sha256 pin, mismatch refused, --offline."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tutorial.cli import main
from tutorial.engine import assetcache
from tutorial.engine.assetcache import GATEWAY_API_STANDARD as ASSET

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "gateway-api-v1.3.0" \
    / "standard-install.yaml"


class Mirror:
    """A loopback HTTP server serving one body for every path, counting requests."""

    def __init__(self, body: bytes):
        self.body, self.requests = body, []
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                mirror.requests.append(self.path)
                self.send_response(200)
                self.send_header("content-length", str(len(mirror.body)))
                self.end_headers()
                self.wfile.write(mirror.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/files"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def good_bytes() -> bytes:
    if not REFERENCE.is_file():
        pytest.skip(f"{REFERENCE} is absent: the pinned file is only available from ../shared")
    return REFERENCE.read_bytes()


@pytest.fixture
def mirror_of():
    made = []

    def make(body: bytes) -> Mirror:
        made.append(Mirror(body))
        return made[-1]

    yield make
    for m in made:
        m.close()


def test_fetch_verifies_and_lessons_use_the_cached_copy(good_bytes, mirror_of, capsys):
    mirror = mirror_of(good_bytes)
    assert assetcache.localize(ASSET.url) is None
    assert main(["assets", "fetch", "--mirror", mirror.url]) == 0
    assert mirror.requests == [f"/files/{ASSET.name}"]
    path = assetcache.localize(ASSET.url)
    assert path == assetcache.cache_dir() / ASSET.name and path.read_bytes() == good_bytes
    assert "fetched" in capsys.readouterr().out
    assert main(["assets", "fetch", "--mirror", mirror.url]) == 0
    assert len(mirror.requests) == 1  # already cached and verified: no second download


def test_checksum_mismatch_is_refused_and_nothing_is_kept(mirror_of, capsys):
    mirror = mirror_of(b"apiVersion: v1\nkind: List\nitems: []\n")
    assert main(["assets", "fetch", "--mirror", mirror.url, "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    [entry] = doc["assets"]
    assert entry["state"] == "failed" and "checksum mismatch" in entry["detail"]
    assert ASSET.sha256 in entry["detail"] and "not saved" in entry["detail"]
    assert not (assetcache.cache_dir() / ASSET.name).exists()
    assert list(assetcache.cache_dir().glob("*.tmp")) == []
    assert assetcache.localize(ASSET.url) is None


def test_a_tampered_cached_file_is_not_used(good_bytes):
    path = assetcache.cache_dir() / ASSET.name
    path.parent.mkdir(parents=True)
    path.write_bytes(good_bytes + b"\n# changed\n")
    assert assetcache.localize(ASSET.url) is None
    found, why = assetcache.cached(ASSET)
    assert found is None and "expected " + ASSET.sha256 in why


def test_offline_never_touches_the_network_and_names_what_is_missing(good_bytes, mirror_of, capsys):
    mirror = mirror_of(good_bytes)
    assert main(["assets", "fetch", "--offline", "--mirror", mirror.url]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert mirror.requests == []
    assert "missing" in out and ASSET.url in out and "assets fetch" in out
    problem = assetcache.offline_problem(["kubectl", "apply", "--server-side", "-f", ASSET.url])
    assert problem and ASSET.url in problem and "gateway-tutorial assets fetch" in problem


def test_offline_env_is_global_and_status_reports_cached(good_bytes, mirror_of, monkeypatch, capsys):
    mirror = mirror_of(good_bytes)
    monkeypatch.setenv("GATEWAY_TUTORIAL_OFFLINE", "1")
    assert main(["assets", "fetch", "--mirror", mirror.url]) == 1 and mirror.requests == []
    monkeypatch.delenv("GATEWAY_TUTORIAL_OFFLINE")
    assert main(["assets", "fetch", "--mirror", mirror.url]) == 0
    capsys.readouterr()
    assert main(["assets", "status", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["offline"] is True and doc["assets"][0]["state"] == "cached"
    assert assetcache.offline_problem(["kubectl", "apply", "-f", ASSET.url]) is None


def test_mirror_may_be_a_directory(good_bytes, tmp_path):
    (tmp_path / "usb").mkdir()
    (tmp_path / "usb" / ASSET.name).write_bytes(good_bytes)
    [result] = assetcache.fetch_all(mirror=str(tmp_path / "usb"))
    assert result.state == "fetched" and assetcache.localize(ASSET.url) is not None


def test_unreachable_source_fails_with_a_next_step():
    [result] = assetcache.fetch_all(mirror="http://127.0.0.1:9/nowhere")
    assert result.state == "failed" and "cannot download" in result.detail and "--mirror" in result.detail


def test_assets_without_action_is_a_usage_error(capsys):
    assert main(["assets"]) == 2
    assert "assets fetch" in capsys.readouterr().out
