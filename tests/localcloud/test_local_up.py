"""`gyeonggi local up` as a user runs it: a process serving the stack until SIGINT."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration

# The command as a module, so the test runs this checkout's code whatever script is installed.
GYEONGGI = [sys.executable, "-m", "gyeonggi_tools"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answer(url: str, **kwargs: object) -> tuple[int, object]:
    request = urllib.request.Request(url, **kwargs)  # type: ignore[arg-type]
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_local_up_serves_the_api_and_the_aws_endpoint_then_stops_on_sigint(
    tmp_path: Path,
) -> None:
    api, mqtt, moto = _free_port(), _free_port(), _free_port()
    state = tmp_path / "state"
    env = dict(os.environ, GYEONGGI_STATE_DIR=str(state))
    process = subprocess.Popen(
        [
            *GYEONGGI,
            "local",
            "up",
            "--api-port",
            str(api),
            "--mqtt-port",
            str(mqtt),
            "--moto-port",
            str(moto),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{api}"
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                status, _ = _answer(f"{base}/open311/v2/requests/GG-20260101-00000000.json")
                break
            except (ConnectionError, urllib.error.URLError):
                assert time.monotonic() < deadline, "the API did not answer within 60 s"
                time.sleep(0.1)
        assert status == 404

        # Given a token minted by the command line against the running issuer
        token = subprocess.run(
            [*GYEONGGI, "auth", "token", "citizen"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        body = {
            "jurisdiction_id": "guri.gg.kr",
            "service_code": "streetlight",
            "address_string": "구리시 검배로",
            "description": "가로등이 꺼져 있어요",
        }
        status, created = _answer(
            f"{base}/complaints",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert status == 201, created
        request_id = created["service_request_id"]  # type: ignore[index]

        # Then the chain runs in the served stack, and other programs reach its AWS APIs
        deadline = time.monotonic() + 30
        while _answer(f"{base}/open311/v2/requests/{request_id}.json")[0] != 200:
            assert time.monotonic() < deadline, "the complaint was not stored within 30 s"
            time.sleep(0.1)
        key = subprocess.run(
            [*GYEONGGI, "auth", "api-key", "test client"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert key.startswith("gg_")
        invoked = subprocess.run(
            [
                *GYEONGGI,
                "local",
                "invoke",
                "TelemetryFunction",
                "--event",
                "events/sensor_telemetry/iot_rule_gas_reading.json",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert invoked.returncode == 0, invoked.stderr
        assert json.loads(invoked.stdout)["accepted"] is True
        # The operators' commands beside a running stack: alarm levels, alert subscriptions
        policy = json.loads((state / "running.json").read_text())["resources"][
            "SensorGatewayPolicy"
        ]
        for argv in (
            ["devices", "register", "banwol-gw", "--complex", "banwol", "--policy", policy,
             "--out", str(state / "gateway"), "--local"],
            ["safety", "alarms", "show", "banwol", "--local"],
            ["safety", "redrive", "--local"],
            ["safety", "subscribe", "email", "ops@example.kr", "--complex", "banwol", "--local"],
        ):  # fmt: skip
            done = subprocess.run(
                [*GYEONGGI, *argv], cwd=ROOT, env=env, capture_output=True, text=True, check=False
            )
            assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["filter_policy"]["complex_id"] == ["banwol"]
        running = json.loads((state / "running.json").read_text())
        assert running["endpoint_url"] == f"http://127.0.0.1:{moto}"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail(f"local up did not stop within 30 s:\n{process.communicate()[0]}")
    assert process.returncode == 0, output
    assert "Ready." in output and "stopped" in output
    assert not (state / "running.json").exists()
