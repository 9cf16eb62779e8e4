"""The issuer's published metadata documents.

- ``/.well-known/openid-credential-issuer``: OpenID4VCI 1.0 section 12.2 (the ``dc+sd-jwt``
  configuration of appendix A.3, with ``vct``, key binding by ``jwk`` proven by ``jwt`` proofs
  signed with ES256, and display metadata for wallets, in Korean and English);
- ``/.well-known/oauth-authorization-server``: RFC 8414, with OpenID4VCI's
  ``pre-authorized_grant_anonymous_access_supported`` (the issuer is its own authorization
  server: the credential issuer metadata names none);
- ``/.well-known/jwt-vc-issuer``: SD-JWT VC's JWT VC Issuer Metadata, ``issuer`` equal to the
  credentials' ``iss`` and ``jwks`` the published keys.
"""

from __future__ import annotations

from typing import Any

from gyeonggi.wallet.credential import AGE_THRESHOLDS, resident_vct
from gyeonggi.wallet.issuer_settings import RESIDENT_CONFIGURATION_ID, IssuerEndpoints
from gyeonggi.wallet.offers import PRE_AUTHORIZED_GRANT

PROOF_TYP = "openid4vci-proof+jwt"
SIGNING_ALG = "ES256"


def _names(ko: str, en: str) -> list[dict[str, str]]:
    return [{"name": ko, "locale": "ko-KR"}, {"name": en, "locale": "en-US"}]


def _claims() -> list[dict[str, Any]]:
    """The credential's claims for display, in the order a wallet should show them."""
    claims: list[dict[str, Any]] = [
        {"path": ["family_name"], "mandatory": True, "display": _names("성", "Family name")},
        {"path": ["given_name"], "mandatory": True, "display": _names("이름", "Given name")},
        {"path": ["birthdate"], "mandatory": True, "display": _names("생년월일", "Date of birth")},
        {"path": ["age_equal_or_over"], "mandatory": True, "display": _names("나이", "Age")},
    ]
    claims += [
        {
            "path": ["age_equal_or_over", threshold],
            "mandatory": True,
            "display": _names(f"만 {threshold}세 이상", f"Aged {threshold} or over"),
        }
        for threshold in AGE_THRESHOLDS
    ]
    claims += [
        {
            "path": ["jurisdiction"],
            "mandatory": True,
            "display": _names("거주 시군", "City or county of residence"),
        },
        {"path": ["address"], "mandatory": True, "display": _names("주소", "Address")},
        {
            "path": ["address", "formatted"],
            "mandatory": True,
            "display": _names("주소", "Address"),
        },
        {
            "path": ["resident_since"],
            "mandatory": True,
            "display": _names("전입일", "Resident since"),
        },
    ]
    return claims


def credential_issuer_metadata(endpoints: IssuerEndpoints) -> dict[str, Any]:
    """The Credential Issuer Metadata (unsigned, ``application/json``)."""
    return {
        "credential_issuer": endpoints.issuer,
        "credential_endpoint": endpoints.credential,
        "nonce_endpoint": endpoints.nonce,
        "display": _names("경기도", "Gyeonggi Province"),
        "credential_configurations_supported": {
            RESIDENT_CONFIGURATION_ID: {
                "format": "dc+sd-jwt",
                "vct": resident_vct(endpoints.issuer),
                "cryptographic_binding_methods_supported": ["jwk"],
                "credential_signing_alg_values_supported": [SIGNING_ALG],
                "proof_types_supported": {
                    "jwt": {"proof_signing_alg_values_supported": [SIGNING_ALG]}
                },
                "credential_metadata": {
                    "display": [
                        {
                            "name": "경기도민 증명",
                            "locale": "ko-KR",
                            "description": "경기도가 발급한 거주 신원 증명",
                            "background_color": "#00529B",
                            "text_color": "#FFFFFF",
                        },
                        {
                            "name": "Gyeonggi Resident",
                            "locale": "en-US",
                            "description": "Proof of identity and residence issued by "
                            "Gyeonggi Province",
                            "background_color": "#00529B",
                            "text_color": "#FFFFFF",
                        },
                    ],
                    "claims": _claims(),
                },
            }
        },
    }


def authorization_server_metadata(endpoints: IssuerEndpoints) -> dict[str, Any]:
    """RFC 8414 metadata of the issuer acting as its own authorization server.

    It has no authorization endpoint (only the pre-authorized code grant), so, as OpenID4VCI
    12.3 allows, no ``response_types_supported``. Wallets need no client registration: token
    requests without a ``client_id`` are accepted (``token_endpoint_auth_methods_supported``
    ``none``).
    """
    return {
        "issuer": endpoints.issuer,
        "token_endpoint": endpoints.token,
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported": True,
        "token_endpoint_auth_methods_supported": ["none"],
        "authorization_details_types_supported": ["openid_credential"],
    }


def jwt_vc_issuer_metadata(
    endpoints: IssuerEndpoints, jwks: dict[str, list[dict[str, str]]]
) -> dict[str, Any]:
    """SD-JWT VC's JWT VC Issuer Metadata: the keys by value (``jwks``, never ``jwks_uri``)."""
    return {"issuer": endpoints.issuer, "jwks": jwks}
