"""Registering a complex's sensor gateway with AWS IoT Core, against moto."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gyeonggi.common.errors import Conflict, InvalidInput
from gyeonggi_tools.safety.devices import GatewayRegistry

POLICY = "gyeonggi-SensorGatewayPolicy"


@pytest.fixture
def iot(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-northeast-2")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        client = boto3.client("iot")
        client.create_policy(policyName=POLICY, policyDocument='{"Version": "2012-10-17"}')
        yield client


def test_a_gateway_gets_a_thing_an_attached_certificate_and_private_files(
    iot: Any, tmp_path: Path
) -> None:
    done = GatewayRegistry(POLICY, iot).register("siheung-sihwa", "sihwa-gw-1", tmp_path)
    thing = iot.describe_thing(thingName="sihwa-gw-1")
    assert thing["attributes"] == {"complex_id": "siheung-sihwa"}
    assert iot.list_thing_principals(thingName="sihwa-gw-1")["principals"] == [done.certificate_arn]
    policies = iot.list_attached_policies(target=done.certificate_arn)["policies"]
    assert [p["policyName"] for p in policies] == [POLICY]
    assert done.certificate_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY" in done.private_key_file.read_text()
    assert stat.S_IMODE(done.private_key_file.stat().st_mode) == 0o600
    assert done.endpoint.endswith(".iot.ap-northeast-2.amazonaws.com")


def test_bad_names_existing_things_and_existing_files_are_refused(iot: Any, tmp_path: Path) -> None:
    registry = GatewayRegistry(POLICY, iot)
    with pytest.raises(InvalidInput, match="complex id"):
        registry.register("../sihwa", "gw", tmp_path)
    with pytest.raises(InvalidInput, match="name"):
        registry.register("sihwa", "gw/1", tmp_path)
    registry.register("sihwa", "gw-1", tmp_path)
    with pytest.raises(InvalidInput, match="refusing to overwrite"):
        registry.register("sihwa", "gw-1", tmp_path)
    with pytest.raises(Conflict, match="exists already"):
        registry.register("sihwa", "gw-1", tmp_path / "elsewhere")
    assert not (tmp_path / "elsewhere").exists()


def test_a_failure_after_the_certificate_leaves_nothing_behind(iot: Any, tmp_path: Path) -> None:
    registry = GatewayRegistry("no-such-policy", iot)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        registry.register("sihwa", "gw-2", tmp_path)
    assert iot.list_things()["things"] == []
    assert iot.list_certificates()["certificates"] == []
    assert list(tmp_path.iterdir()) == []


def test_register_command(iot: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gyeonggi_tools.cli import main

    argv = ["devices", "register", "banwol-gw", "--complex", "banwol", "--policy", POLICY,
            "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["thing_name"] == "banwol-gw"
    assert "--client-id banwol-gw --endpoint" in captured.err
    assert main(argv) == 2  # the files exist: never overwritten
    assert "refusing to overwrite" in capsys.readouterr().err
