"""The local cloud's stand-in for the trust framework's CA: a certificate for the verifier's key.

In AWS the province obtains a certificate for ``WalletVerifierKey``'s public key from the CA
that wallets trust for verifiers, and stores the chain in the SSM parameter the verifier reads
(docs/WALLET_VERIFIER.md). Locally there is no such CA: at every start a development CA is
made (its key only in this process, new each run, like the token issuer's), it certifies the
deployed KMS key's public key, the leaf goes into the parameter, and the CA certificate is
written to ``<state dir>/wallet/verifier-ca.pem`` for holders to trust
(``gyeonggi wallet present --local``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

CA_FILE = Path("wallet") / "verifier-ca.pem"
_VALIDITY = timedelta(days=30)


@dataclass(frozen=True)
class VerifierCertificates:
    """What was made: the CA (PEM, and where it was written) and the leaf (PEM)."""

    ca_pem: bytes
    ca_path: Path
    leaf_pem: bytes


def issue_verifier_certificate(
    public_key_der: bytes, now: datetime | None = None
) -> tuple[bytes, bytes]:
    """A development CA and a leaf certificate for ``public_key_der`` (the KMS key's
    ``SubjectPublicKeyInfo``), both PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    moment = now or datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Digital Gyeonggi (local cloud)"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Local verifier CA (development only)"),
        ]
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - timedelta(hours=1))
        .not_valid_after(moment + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = serialization.load_der_public_key(public_key_der)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Gyeonggi Province"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "Digital Gyeonggi verifier (local)"),
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(leaf_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - timedelta(hours=1))
        .not_valid_after(moment + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return (
        ca.public_bytes(serialization.Encoding.PEM),
        leaf.public_bytes(serialization.Encoding.PEM),
    )


def provision(
    kms: Any, ssm: Any, key_id: str, parameter_name: str, state_dir: Path
) -> VerifierCertificates:
    """Certify the deployed verifier key and store the leaf where the function reads it."""
    public_key = kms.get_public_key(KeyId=key_id)["PublicKey"]
    ca_pem, leaf_pem = issue_verifier_certificate(public_key)
    ssm.put_parameter(
        Name=parameter_name, Value=leaf_pem.decode("ascii"), Type="String", Overwrite=True
    )
    ca_path = state_dir / CA_FILE
    ca_path.parent.mkdir(parents=True, exist_ok=True)
    ca_path.write_bytes(ca_pem)
    return VerifierCertificates(ca_pem, ca_path, leaf_pem)
