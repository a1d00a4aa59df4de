"""Durable acknowledgement (issue 19): 10 SIGKILLs of `sandbox serve` under a write loop lose no
acknowledged create or delete, and resourceVersions never go back."""

from __future__ import annotations

import base64
import http.client
import json
import os
import random
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PATH = "/api/v1/namespaces/default/configmaps"


def _serve(tmp: Path) -> tuple[subprocess.Popen, dict]:
    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": str(tmp / "state"), "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "tutorial", "sandbox", "serve", "--kubeconfig-out", str(tmp / "kc"),
                             "--state-dir", str(tmp / "states")], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        if "Press Ctrl-C to stop." in line:
            break
    else:
        raise AssertionError("sandbox serve ended early")
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep its pipe drained
    config = yaml.safe_load((tmp / "kc").read_text())
    cluster, user = config["clusters"][0]["cluster"], config["users"][0]["user"]
    return proc, {"url": cluster["server"], "token": user["token"],
                  "ca": base64.b64decode(cluster["certificate-authority-data"]).decode()}


def _call(server: dict, method: str, path: str, body: dict | None = None):
    host, port = urllib.parse.urlsplit(server["url"]).netloc.split(":")
    conn = http.client.HTTPSConnection(host, int(port), timeout=10,
                                       context=ssl.create_default_context(cadata=server["ca"]))
    try:
        conn.request(method, path, body=json.dumps(body).encode() if body else None,
                     headers={"Authorization": f"Bearer {server['token']}", "Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        conn.close()


class Ledger:
    """What the server acknowledged: creates (name -> rv), deletes, the highest rv seen."""

    def __init__(self):
        self.created: dict[str, int] = {}
        self.deleted: set[str] = set()
        self.in_flight: set[str] = set()  # deletes sent whose answer never came (the kill landed first)
        self.max_rv = 0
        self.lock = threading.Lock()

    def writer(self, server: dict, prefix: str, stop: threading.Event) -> None:
        i = 0
        while not stop.is_set():
            name = f"{prefix}-{i}"
            try:
                status, doc = _call(server, "POST", PATH, {"metadata": {"name": name}, "data": {"i": str(i)}})
                if status == 201:
                    with self.lock:
                        self.created[name] = int(doc["metadata"]["resourceVersion"])
                        self.max_rv = max(self.max_rv, self.created[name])
                if i % 3 == 2:
                    old = f"{prefix}-{i - 2}"
                    with self.lock:
                        self.in_flight.add(old)  # may be applied (and logged) without an answer
                    status, doc = _call(server, "DELETE", f"{PATH}/{old}")
                    if status == 200:
                        with self.lock:
                            self.deleted.add(old)
                            self.in_flight.discard(old)
                            self.max_rv = max(self.max_rv, int(doc["metadata"]["resourceVersion"]))
            except (OSError, http.client.HTTPException, ValueError):
                return  # the server was killed mid-request: that write was not acknowledged
            i += 1

    def check(self, server: dict) -> None:
        status, listed = _call(server, "GET", PATH)
        assert status == 200
        names = {item["metadata"]["name"] for item in listed["items"]}
        # an unanswered delete may or may not have been applied before the kill: either is correct
        lost = set(self.created) - self.deleted - self.in_flight - names
        resurrected = self.deleted & names
        assert not lost, f"{len(lost)} acknowledged creates lost, e.g. {sorted(lost)[:3]}"
        assert not resurrected, f"acknowledged deletes undone: {sorted(resurrected)[:3]}"
        assert int(listed["metadata"]["resourceVersion"]) > self.max_rv, "resourceVersion went back"
        status, doc = _call(server, "POST", PATH, {"metadata": {"generateName": "probe-", "name": f"probe-{time.time_ns()}"}})
        assert status == 201 and int(doc["metadata"]["resourceVersion"]) > self.max_rv, "a resourceVersion was reused"
        self.max_rv = int(doc["metadata"]["resourceVersion"])


def test_ten_sigkills_under_a_write_loop_lose_no_acknowledged_write(tmp_path):
    rng = random.Random(19)
    ledger = Ledger()
    kills = 0
    for round_ in range(10):
        proc, server = _serve(tmp_path)
        try:
            ledger.check(server)
            stop = threading.Event()
            writers = [threading.Thread(target=ledger.writer, args=(server, f"r{round_}w{w}", stop)) for w in range(2)]
            for t in writers:
                t.start()
            time.sleep(rng.uniform(0.3, 0.8))
            proc.send_signal(signal.SIGKILL)  # in the middle of the writes
            kills += 1
            proc.wait(10)
            stop.set()
            for t in writers:
                t.join(15)
        finally:
            if proc.poll() is None:
                proc.kill()
    proc, server = _serve(tmp_path)
    try:
        ledger.check(server)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    assert kills == 10 and len(ledger.created) > 50 and ledger.deleted
