"""HTTP decisions under load: `wrk` on loopback against `POST /v1/decisions` and, on the same server in the same
run, a bare FastAPI endpoint (the baseline). The server runs as `charter serve` would (one uvicorn process) pinned
to one core, wrk to another. Debian's `wrk` package provides the load generator: `apt-get install wrk`."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks import Row, benchmark
from charter.accounts.services import ApiKeyService, ControllerService
from charter.consent.schemas import ConsentIn
from charter.consent.services import ConsentLedger
from charter.core.crypto import Keyring
from charter.core.db import make_engine, session_factory, transaction
from charter.decisions.services import load_terms
from charter.migrations import upgrade
from charter.policy.services import PolicyStore
from charter.subjects.services import SubjectDirectory

ROOT = Path(__file__).resolve().parents[1]
LUBPUR = ROOT / "examples" / "lubpur" / "policy.yaml"
PEOPLE = 200
CONNECTIONS = 4

LUA = """
bodies = {BODIES}
counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {KEY}"
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, bodies[(counter % #bodies) + 1])
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _seed(url: str, keyring: Keyring) -> tuple[str, list[str]]:
    import datetime as dt  # noqa: PLC0415 - keeps the module's import list about HTTP

    upgrade(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    with transaction(sessions) as s:
        ControllerService(s).create("lubpur", "Lubpur", actor="bench")
        PolicyStore(s).publish("lubpur", LUBPUR.read_text(encoding="utf-8"), source=str(LUBPUR), actor="bench")
        token = ApiKeyService(s).create("lubpur", "bench", "secret", actor="bench").token
        directory = SubjectDirectory(s, keyring)
        subjects = [directory.resolve("lubpur", "account_id", f"user{n}", actor="bench").id for n in range(PEOPLE)]
    with transaction(sessions) as s:
        terms = load_terms(s, "lubpur", dt.date.today())
        ConsentLedger(s, keyring).record_many(
            "lubpur", [ConsentIn(subject_id=sid, purpose="analytics") for sid in subjects[::2]], terms, actor="bench")
    engine.dispose()
    return token, subjects


def _wrk(url: str, script: Path, seconds: int) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", str(script), url]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "1", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout  # noqa: S603 - fixed argv
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    found = {"rps": rps}
    for pct in ("50", "99"):
        value, unit = re.search(rf"\n\s+{pct}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        found[f"p{pct}"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"wrk saw {errors.group(1)} error responses:\n{out}")
    return found


@benchmark("http", f"HTTP decisions vs a bare FastAPI endpoint (wrk, {CONNECTIONS} connections, loopback)")
def run(quick: bool) -> list[Row]:
    if shutil.which("wrk") is None:
        print("  wrk is not installed: `apt-get install wrk` (Debian) and run again; skipping the HTTP benchmark")
        return []
    seconds = 3 if quick else 10
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        keyring = Keyring.generate()
        token, subjects = _seed(url, keyring)
        env = {**os.environ, "CHARTER_DATABASE_URL": url, "CHARTER_KEYRING": keyring.to_json(),
               "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
        port = _free_port()
        cmd = [sys.executable, "-m", "uvicorn", "benchmarks.http_server:app", "--factory", "--port", str(port),
               "--log-level", "warning", "--no-access-log"]
        if shutil.which("taskset"):
            cmd = ["taskset", "-c", "0", *cmd]
        server = subprocess.Popen(cmd, env=env, cwd=tmp)  # noqa: S603 - fixed argv
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(base)
            bodies = [json.dumps({"subject_id": s, "purpose": p}) for s in subjects
                      for p in ("analytics", "service", "personalisation")]
            script = Path(tmp) / "decide.lua"
            script.write_text(LUA.replace("{BODIES}", "{" + ",".join(json.dumps(b) for b in bodies) + "}")
                              .replace("{KEY}", token))
            _wrk(f"{base}/v1/decisions", script, 2)  # warm: every subject loaded once
            bare = _wrk(f"{base}/bench/bare", script, seconds)
            decisions = _wrk(f"{base}/v1/decisions", script, seconds)
        finally:
            server.terminate()
            server.wait(timeout=10)
    ratio = decisions["rps"] / bare["rps"]
    return [
        Row("http", "requests/s, POST /v1/decisions", decisions["rps"], "/s", bare["rps"], "bare endpoint",
            "≥ 70% of bare", ratio >= 0.7),
        Row("http", "p50 latency", decisions["p50"], "ms", bare["p50"], "bare endpoint", "≤ 1 ms",
            decisions["p50"] <= 1.0),
        Row("http", "p99 latency", decisions["p99"], "ms", bare["p99"], "bare endpoint"),
    ]


def _wait(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the benchmark server did not start")
