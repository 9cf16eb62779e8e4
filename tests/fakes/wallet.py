"""A KMS client that signs as AWS documents it, for the path moto gets wrong.

moto 5.2.5 hashes a ``MessageType=DIGEST`` message again before signing, unlike AWS (which signs
the digest as given), so a signature that verifies in AWS fails against moto and the reverse.
:class:`FakeKms` does what AWS does: ``RAW`` is hashed with SHA-256 (and refused over 4,096
bytes), ``DIGEST`` is signed as is (and must be 32 bytes). Signatures are DER, as KMS returns.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed


class FakeKmsError(Exception):
    """What KMS answers ``ValidationException`` for."""


class FakeKms:
    """``GetPublicKey`` and ``Sign`` of one ``ECC_NIST_P256`` key; records every call."""

    RAW_LIMIT = 4096

    def __init__(self, key_id: str = "alias/wallet-issuer") -> None:
        self.key_id = key_id
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def get_public_key(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("GetPublicKey", kwargs))
        der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {
            "KeyId": self.key_id,
            "PublicKey": der,
            "KeySpec": "ECC_NIST_P256",
            "KeyUsage": "SIGN_VERIFY",
            "SigningAlgorithms": ["ECDSA_SHA_256"],
        }

    def sign(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("Sign", kwargs))
        if kwargs["SigningAlgorithm"] != "ECDSA_SHA_256":
            raise FakeKmsError("unsupported signing algorithm")
        message: bytes = kwargs["Message"]
        if kwargs.get("MessageType", "RAW") == "RAW":
            if len(message) > self.RAW_LIMIT:
                raise FakeKmsError("RAW messages are at most 4096 bytes")
            signature = self.private_key.sign(message, ec.ECDSA(hashes.SHA256()))
        else:
            if len(message) != 32:
                raise FakeKmsError("a SHA-256 digest is 32 bytes")
            signature = self.private_key.sign(message, ec.ECDSA(Prehashed(hashes.SHA256())))
        return {"KeyId": self.key_id, "Signature": signature, "SigningAlgorithm": "ECDSA_SHA_256"}

    def operations(self) -> list[str]:
        """The names of the calls made, in order."""
        return [name for name, _ in self.calls]
