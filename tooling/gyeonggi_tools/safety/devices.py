"""Registering a complex's sensor gateway with AWS IoT Core.

A gateway is an IoT *thing* with the attribute ``complex_id``, a certificate made by IoT Core
(its private key is handed out once, here, and never stored by AWS), and the template's
``SensorGatewayPolicy`` attached to the certificate. The policy lets a connection use only its
own thing name as client id and publish only to
``gyeonggi/safety/<its complex_id>/<any sensor>/telemetry``: a gateway cannot speak for another
complex, whatever it puts in its payload (the topic rule takes the complex from the topic).

What is not done here: the Amazon root CA certificate the device needs to check IoT Core's
certificate is public and comes from Amazon's trust services, never fetched by this code.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gyeonggi.common.aws import AwsClient
from gyeonggi.common.errors import Conflict, InvalidInput

_COMPLEX_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# IoT thing names allow ':' too; the policy uses the name as the MQTT client id, so keep to
# what a client id and a file name both take.
_THING_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")


@dataclass(frozen=True)
class Registration:
    """A registered gateway and where its credentials were written."""

    thing_name: str
    complex_id: str
    certificate_arn: str
    certificate_file: Path
    private_key_file: Path
    endpoint: str

    def to_json(self) -> dict[str, Any]:
        return {
            "thing_name": self.thing_name,
            "complex_id": self.complex_id,
            "certificate_arn": self.certificate_arn,
            "certificate_file": str(self.certificate_file),
            "private_key_file": str(self.private_key_file),
            "endpoint": self.endpoint,
        }


class GatewayRegistry:
    """Creates gateway things with their certificates in AWS IoT Core."""

    iot = AwsClient("iot")

    def __init__(self, policy_name: str, iot: Any | None = None) -> None:
        self.policy_name = policy_name
        if iot is not None:
            self.iot = iot

    def register(self, complex_id: str, thing_name: str, out_dir: Path) -> Registration:
        """Create the thing, an active certificate, attach policy and thing; write the files.

        The private key file is written with mode 0600. On a failure after the certificate was
        made, the certificate and the thing are removed again, so a retry starts clean.

        Raises
        ------
        InvalidInput
            A malformed complex id or thing name, or an output folder that already holds this
            gateway's files.
        Conflict
            A thing of this name exists already.
        """
        if not _COMPLEX_ID.fullmatch(complex_id):
            raise InvalidInput("complex id: 1-64 letters, digits, '_' or '-'", field="complex_id")
        if not _THING_NAME.fullmatch(thing_name):
            raise InvalidInput("name: 1-128 letters, digits, '_' or '-'", field="name")
        cert_file = out_dir / f"{thing_name}.cert.pem"
        key_file = out_dir / f"{thing_name}.private.key"
        for path in (cert_file, key_file):
            if path.exists():
                raise InvalidInput(f"{path} exists: refusing to overwrite a device's credentials")
        if self._exists(thing_name):
            raise Conflict(f"thing {thing_name} exists already")

        self.iot.create_thing(
            thingName=thing_name, attributePayload={"attributes": {"complex_id": complex_id}}
        )
        try:
            made = self.iot.create_keys_and_certificate(setAsActive=True)
        except Exception:
            self.iot.delete_thing(thingName=thing_name)
            raise
        arn = made["certificateArn"]
        try:
            self.iot.attach_policy(policyName=self.policy_name, target=arn)
            self.iot.attach_thing_principal(thingName=thing_name, principal=arn)
            endpoint = self.iot.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]
            out_dir.mkdir(parents=True, exist_ok=True)
            cert_file.write_text(made["certificatePem"], encoding="ascii")
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="ascii") as key:
                key.write(made["keyPair"]["PrivateKey"])
        except Exception:
            self._undo(thing_name, arn, made["certificateId"])
            cert_file.unlink(missing_ok=True)
            raise
        return Registration(thing_name, complex_id, arn, cert_file, key_file, endpoint)

    def _exists(self, thing_name: str) -> bool:
        try:
            self.iot.describe_thing(thingName=thing_name)
        except self.iot.exceptions.ResourceNotFoundException:
            return False
        return True

    def _undo(self, thing_name: str, arn: str, certificate_id: str) -> None:
        # Best effort, in the order IoT Core requires: detach, deactivate, delete.
        steps = (
            lambda: self.iot.detach_thing_principal(thingName=thing_name, principal=arn),
            lambda: self.iot.detach_policy(policyName=self.policy_name, target=arn),
            lambda: self.iot.update_certificate(certificateId=certificate_id, newStatus="INACTIVE"),
            lambda: self.iot.delete_certificate(certificateId=certificate_id),
            lambda: self.iot.delete_thing(thingName=thing_name),
        )
        for step in steps:
            try:
                step()
            except Exception:
                continue  # each step stands alone; the caller re-raises the first failure
