"""The Digital Gyeonggi Wallet's formats: SD-JWT VC credentials, presentations, status lists.

Pure domain code, no AWS besides the KMS signer: ``jose`` (ES256 compact JWS and keys),
``sd_jwt`` (RFC 9901 SD-JWT: disclosures, processing, presentations with key binding),
``credential`` (the Gyeonggi resident credential as an SD-JWT VC, issued and verified),
``status_list`` (IETF Token Status List) and ``dcql`` (OpenID4VP 1.0 DCQL queries). Every
rejection is a :class:`~gyeonggi.wallet.errors.VerificationFailed` with a stable reason code;
docs/WALLET.md lists them.

Nothing is imported here, so that a function importing one module does not pay for the others
(``cryptography`` is loaded only by the modules that sign or verify).
"""
