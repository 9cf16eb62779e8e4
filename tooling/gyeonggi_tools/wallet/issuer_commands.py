"""``gyeonggi wallet enrol | revoke | suspend | reinstate``: the issuer's side, for officials.

``enrol`` records who a person is (what the identity check at the community centre
established) and prints one JSON object: ``credential_offer`` (the offer object),
``credential_offer_uri`` (``openid-credential-offer://?credential_offer=...``, what a wallet
scans or opens), ``tx_code`` (locally the answer carries it; with SMS it is ``null``: the person
has it), and ``enrolment_id`` for ``revoke``/``suspend``/``reinstate``. ``--qr FILE`` writes the
QR code PNG of the offer by reference.

``--local`` talks to a running ``gyeonggi local up`` as a civil servant whose token the local
issuer mints (of the person's jurisdiction for ``enrol``, of the province for the others);
``--api-url URL`` with ``--token`` (or ``GYEONGGI_TOKEN``) to a deployed stack.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from pathlib import Path
from typing import Any

#: What ``enrol`` prints of the enrolment's answer (the QR code goes to ``--qr`` instead).
PRINTED = (
    "credential_offer",
    "credential_offer_uri",
    "tx_code",
    "enrolment_id",
    "credential_offer_by_reference",
    "expires_at",
)
_TIMEOUT = 30


def add_commands(commands: Any) -> None:
    """Add ``enrol``, ``revoke``, ``suspend`` and ``reinstate`` to the ``wallet`` group (this
    module imports nothing heavy: it is loaded to build the parser)."""
    enrol = commands.add_parser(
        "enrol",
        help="enrol a person whose identity was checked; print their credential offer",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _target(enrol)
    enrol.add_argument("--given-name", required=True)
    enrol.add_argument("--family-name", required=True)
    enrol.add_argument("--birth-date", required=True, metavar="YYYY-MM-DD")
    enrol.add_argument("--jurisdiction", required=True, metavar="ID", help="e.g. suwon.gg.kr")
    enrol.add_argument("--address", required=True)
    enrol.add_argument("--resident-since", required=True, metavar="YYYY-MM-DD")
    enrol.add_argument("--phone", metavar="+8210...", help="where the tx_code is sent by SMS")
    enrol.add_argument("--qr", type=Path, metavar="FILE", help="write the offer's QR code PNG")
    for action, text in (
        ("revoke", "revoke every credential of an enrolment (final)"),
        ("suspend", "suspend every credential of an enrolment"),
        ("reinstate", "lift a suspension"),
    ):
        command = commands.add_parser(action, help=text)
        command.add_argument("enrolment_id")
        _target(command)


def _target(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--local", action="store_true", help="the running `gyeonggi local up`")
    where.add_argument("--api-url", help="a deployed stack's API (its custom domain)")
    parser.add_argument("--token", help="a civil servant's bearer token (or GYEONGGI_TOKEN)")


def run(args: argparse.Namespace, state_dir: Path) -> int:
    """Run one issuer command; returns the exit status."""
    if args.command == "enrol":
        body = {
            "given_name": args.given_name,
            "family_name": args.family_name,
            "birthdate": args.birth_date,
            "jurisdiction": args.jurisdiction,
            "address": args.address,
            "resident_since": args.resident_since,
        }
        if args.phone:
            body["phone_number"] = args.phone
        base, token = _endpoint(args, state_dir, jurisdiction=args.jurisdiction)
        status, answer = _post(f"{base}/wallet/enrolments", token, body)
        if status != 201:
            return _failed(status, answer)
        if args.qr:
            png = base64.b64decode(str(answer["qr_code"]).split(",", 1)[1])
            args.qr.write_bytes(png)
        if "tx_code" not in answer:
            print("the tx_code was sent by SMS to the person's phone", file=sys.stderr)
        print(json.dumps({k: answer.get(k) for k in PRINTED}, ensure_ascii=False))
        return 0
    base, token = _endpoint(args, state_dir, jurisdiction=None)
    status, answer = _post(f"{base}/wallet/enrolments/{args.enrolment_id}/{args.command}", token)
    if status != 200:
        return _failed(status, answer)
    print(json.dumps(answer, ensure_ascii=False))
    return 0


def _endpoint(
    args: argparse.Namespace, state_dir: Path, jurisdiction: str | None
) -> tuple[str, str]:
    """The API's base URL and a civil servant's token for it."""
    if args.local:
        from localcloud.issuer import LocalIssuer
        from localcloud.up import running_api_url

        base = running_api_url(state_dir)
        scope: dict[str, Any] = (
            {"jurisdictions": [jurisdiction]} if jurisdiction else {"province": True}
        )
        token = args.token or LocalIssuer.load(state_dir).mint(
            ["civil-servant"], "gyeonggi-wallet-cli", 900, **scope
        )
        return base.rstrip("/"), str(token)
    from gyeonggi.common.config import ConfigurationError

    token = args.token or os.environ.get("GYEONGGI_TOKEN")
    if not token:
        raise ConfigurationError("give --token or set GYEONGGI_TOKEN (a civil servant's token)")
    return str(args.api_url).rstrip("/"), token


def _post(url: str, token: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    import urllib.error
    import urllib.request

    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw or b"null")
        except ValueError:
            return exc.code, raw.decode("utf-8", "replace")
    except urllib.error.URLError as exc:
        from gyeonggi.common.config import ConfigurationError

        raise ConfigurationError(f"cannot reach {url}: {exc.reason}") from None


def _failed(status: int, answer: Any) -> int:
    print(f"error: HTTP {status}: {json.dumps(answer, ensure_ascii=False)}", file=sys.stderr)
    return 1
