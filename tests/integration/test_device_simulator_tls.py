"""The device simulator's AWS IoT Core settings (mutual TLS) against a mosquitto TLS listener.

AWS IoT Core itself is out of reach here, so this is what can be proven locally: with
``--endpoint/--cert/--key/--ca`` the simulator makes a mutual-TLS connection that checks the
broker's certificate against the given CA and presents the device certificate, and a broker that
requires client certificates accepts it. The keys and certificates are made by the test (a CA,
a server certificate for 127.0.0.1, device certificates) and never leave its temporary folder.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from paho.mqtt.enums import CallbackAPIVersion

from gyeonggi_tools import cli
from gyeonggi_tools.safety.simulator import SimulationError, TlsConfig, simulate
from localcloud.mqtt_broker import Broker, BrokerTls, start_broker

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("mosquitto") is None, reason="mosquitto is not installed"),
]

HOST = "127.0.0.1"


def _write(
    folder: Path, name: str, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate
) -> None:
    (folder / f"{name}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _issue(
    folder: Path,
    name: str,
    issuer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None,
    *,
    ca: bool = False,
    ip: str | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A P-256 key and a certificate for ``name``, signed by ``issuer`` (self-signed if None)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    signer_key, signer_name = (key, subject) if issuer is None else (issuer[0], issuer[1].subject)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(signer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ip is not None:
        import ipaddress

        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
            critical=False,
        )
    cert = builder.sign(signer_key, hashes.SHA256())
    _write(folder, name, key, cert)
    return key, cert


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pki")
    ca = _issue(folder, "ca", None, ca=True)
    _issue(folder, "broker", ca, ip=HOST)
    _issue(folder, "device", ca)
    _issue(folder, "observer", ca)
    stranger_ca = _issue(folder, "stranger-ca", None, ca=True)
    _issue(folder, "stranger", stranger_ca)
    return folder


@pytest.fixture(scope="module")
def broker(pki: Path) -> Iterator[Broker]:
    tls = BrokerTls(ca=pki / "ca.pem", cert=pki / "broker.pem", key=pki / "broker.key")
    with start_broker(HOST, 0, kind="mosquitto", tls=tls) as running:
        yield running


def _device(pki: Path, name: str = "device", ca: str = "ca") -> TlsConfig:
    return TlsConfig(cert=pki / f"{name}.pem", key=pki / f"{name}.key", ca=pki / f"{ca}.pem")


def test_the_simulator_publishes_over_mutual_tls(broker: Broker, pki: Path) -> None:
    received: list[mqtt.MQTTMessage] = []
    subscribed = threading.Event()
    observer = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="observer")
    observer.tls_set(
        ca_certs=str(pki / "ca.pem"),
        certfile=str(pki / "observer.pem"),
        keyfile=str(pki / "observer.key"),
        tls_version=ssl.PROTOCOL_TLS_CLIENT,
    )
    observer.on_connect = lambda c, u, f, reason, p: c.subscribe("gyeonggi/safety/#", qos=1)
    observer.on_subscribe = lambda c, u, mid, reasons, p: subscribed.set()
    observer.on_message = lambda c, u, message: received.append(message)
    observer.connect(HOST, broker.port)
    observer.loop_start()
    try:
        assert subscribed.wait(5), "the observer could not subscribe over TLS"
        summary = simulate(
            "banwol", sensors=3, count=12, rate=50, host=HOST, port=broker.port,
            tls=_device(pki), client_id="banwol-gateway",
        )  # fmt: skip
        assert summary.errors == 0 and summary.sent == 12
        deadline = time.monotonic() + 5
        while len(received) < 12 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        observer.loop_stop()
        observer.disconnect()
    assert len(received) == 12
    first = json.loads(received[0].payload)
    assert received[0].topic.startswith("gyeonggi/safety/banwol/") and "value" in first


def test_a_device_certificate_from_another_ca_is_refused(broker: Broker, pki: Path) -> None:
    with pytest.raises(SimulationError, match=f"{HOST}:{broker.port}"):
        simulate("banwol", sensors=1, count=1, host=HOST, port=broker.port,
                 tls=_device(pki, "stranger"))  # fmt: skip


def test_a_broker_certificate_the_ca_did_not_sign_is_refused(broker: Broker, pki: Path) -> None:
    # The device trusts only the stranger CA: the broker's certificate must not pass.
    with pytest.raises(SimulationError, match=r"cannot connect|did not accept"):
        simulate("banwol", sensors=1, count=1, host=HOST, port=broker.port,
                 tls=_device(pki, "device", ca="stranger-ca"))  # fmt: skip


def test_the_command_line_takes_the_aws_iot_options(broker: Broker, pki: Path) -> None:
    argv = [
        "devices", "simulate", "--complex", "sihwa", "--sensors", "2", "--count", "4",
        "--rate", "20", "--endpoint", HOST, "--port", str(broker.port),
        "--cert", str(pki / "device.pem"), "--key", str(pki / "device.key"),
        "--ca", str(pki / "ca.pem"),
    ]  # fmt: skip
    assert cli.main(argv) == 0
