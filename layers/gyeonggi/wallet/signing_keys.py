"""The issuer's signing keys: the current one signs, every published one verifies.

The private keys never leave KMS (``ECC_NIST_P256``, ``SIGN_VERIFY``). The current key signs
credentials and status lists (:class:`gyeonggi.wallet.jose.KmsSigner`, ``kid`` the RFC 7638
thumbprint of its public key); the keys that signed before a rotation stay in the published
JWKS (``/.well-known/jwt-vc-issuer``) so that credentials they signed keep verifying until they
expire. The rotation procedure is in docs/WALLET_ISSUER.md.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from gyeonggi.common.aws import AwsClient
from gyeonggi.wallet.jose import KmsSigner, Signer, public_key_jwk


class KmsSigningKeys:
    """The current KMS key and the previous ones, their public keys fetched once each.

    Parameters
    ----------
    current
        The KMS key id or ARN that signs now.
    previous
        Keys that signed before, published for verification only.
    kms
        A boto3 KMS client; made on first use when omitted.
    """

    kms = AwsClient("kms")

    def __init__(self, current: str, previous: Sequence[str] = (), kms: Any | None = None) -> None:
        self.current = current
        self.previous = tuple(k for k in previous if k and k != current)
        if kms is not None:
            self.kms = kms
        self._signer: Signer | None = None
        self._jwks: list[dict[str, str]] | None = None
        self._lock = threading.Lock()

    def signer(self) -> Signer:
        """The signer of the current key (its public key is fetched on first use)."""
        if self._signer is None:
            self._signer = KmsSigner(self.current, kms=self.kms)
        return self._signer

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """``{"keys": [...]}``: the current key first, then the previous ones, each with its
        ``kid``, ``alg`` ES256 and ``use`` sig."""
        with self._lock:
            if self._jwks is None:
                keys = []
                for key_id in (self.current, *self.previous):
                    der = self.kms.get_public_key(KeyId=key_id)["PublicKey"]
                    keys.append({**public_key_jwk(der), "alg": "ES256", "use": "sig"})
                self._jwks = keys
        return {"keys": [dict(k) for k in self._jwks]}
