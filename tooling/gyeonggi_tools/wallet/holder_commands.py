"""``gyeonggi wallet accept | list | present`` (the holder) and ``request | result`` (an
official asking a running ``local up`` for a presentation).

    gyeonggi wallet accept 'openid-credential-offer://?...' [--tx-code 123456]
    gyeonggi wallet list [--claims]
    gyeonggi wallet present 'openid4vp://?...' --trust-anchor verifier-ca.pem [--yes]
    gyeonggi wallet present --request-json answer.json ...
    gyeonggi wallet request --local --dcql query.json [--purpose TEXT] [--qr out.png]
    gyeonggi wallet result REQUEST_ID --local

The wallet file is ``--wallet FILE``, else ``$GYEONGGI_WALLET``, else
``~/.gyeonggi/wallet.json``. With ``--local``, verifier trust anchors default to the running
local cloud's development CA (``.local/wallet/verifier-ca.pem``).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gyeonggi.common.errors import InvalidInput

#: The commands this module runs (the issuer's ``wallet`` commands live beside it).
COMMANDS = frozenset({"accept", "list", "present", "request", "result"})


def add_parsers(commands: Any) -> None:
    """Add the holder's and the verifier's commands to the ``wallet`` group's subparsers."""

    def wallet_file(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--wallet",
            help="the wallet file (default: $GYEONGGI_WALLET or ~/.gyeonggi/wallet.json)",
        )

    accept = commands.add_parser("accept", help="accept a credential offer (OpenID4VCI)")
    accept.add_argument("offer", help="openid-credential-offer://?... (by value or reference)")
    accept.add_argument("--tx-code", help="the transaction code (asked for when needed)")
    wallet_file(accept)

    listing = commands.add_parser("list", help="the credentials in the wallet")
    listing.add_argument("--claims", action="store_true", help="show the claims' values too")
    wallet_file(listing)

    present = commands.add_parser("present", help="answer a presentation request (OpenID4VP)")
    source = present.add_mutually_exclusive_group(required=True)
    source.add_argument("uri", nargs="?", help="openid4vp://?client_id=...&request_uri=...")
    source.add_argument(
        "--request-json",
        type=Path,
        help="a JSON file with client_id and request_uri or request (e.g. the verifier's answer)",
    )
    present.add_argument(
        "--trust-anchor",
        action="append",
        default=[],
        help="PEM file of a CA trusted for verifiers (repeatable; "
        "also $GYEONGGI_WALLET_VERIFIER_ANCHORS)",
    )
    present.add_argument("--local", action="store_true", help="trust the local cloud's verifier CA")
    present.add_argument("--yes", action="store_true", help="consent without asking")
    wallet_file(present)

    request = commands.add_parser(
        "request", help="create a presentation request on a running `local up` (as an official)"
    )
    request.add_argument(
        "--local", action="store_true", required=True, help="the running local cloud"
    )
    request.add_argument(
        "--dcql", type=Path, required=True, help="a JSON file holding the DCQL query"
    )
    request.add_argument("--purpose", help="why the credential is asked for (shown to the person)")
    request.add_argument("--qr", type=Path, help="write the QR code PNG here")

    result = commands.add_parser("result", help="a presentation request's result (`local up`)")
    result.add_argument("request_id")
    result.add_argument("--local", action="store_true", required=True)


def run(args: argparse.Namespace, state_dir: Path) -> int:
    """Run one of :data:`COMMANDS`; returns the exit status."""
    if args.command in ("request", "result"):
        return _official(args, state_dir)
    from gyeonggi_tools.wallet.holder import HolderWallet

    wallet = HolderWallet.open(HolderWallet.default_path(args.wallet))
    if args.command == "accept":
        return _accept(args, wallet)
    if args.command == "list":
        return _list(args, wallet)
    return _present(args, wallet, state_dir)


def _ask_tx_code(spec: Mapping[str, Any]) -> str:
    description = spec.get("description")
    if isinstance(description, str):
        print(description, file=sys.stderr)
    length = spec.get("length")
    hint = f" ({length} characters)" if isinstance(length, int) else ""
    # Not echoed: someone may stand behind the person at a kiosk.
    return getpass.getpass(f"Transaction code{hint}: ")


def _accept(args: argparse.Namespace, wallet: Any) -> int:
    from gyeonggi_tools.wallet.holder import accept_offer

    accepted = accept_offer(args.offer, wallet, tx_code=args.tx_code, ask_tx_code=_ask_tx_code)
    for stored in accepted:
        print(
            json.dumps(
                {
                    "id": stored.id,
                    "issuer": stored.issuer,
                    "vct": stored.vct,
                    "expires_at": stored.expires_at,
                }
            )
        )
    return 0


def _list(args: argparse.Namespace, wallet: Any) -> int:
    for stored in wallet.credentials:
        line: dict[str, Any] = {
            "id": stored.id,
            "issuer": stored.issuer,
            "vct": stored.vct,
            "accepted_at": stored.accepted_at,
            "expires_at": stored.expires_at,
        }
        if args.claims:
            line["claims"] = {k: v for k, v in stored.claims.items() if k not in ("cnf", "_sd_alg")}
        else:
            line["claim_names"] = sorted(k for k in stored.claims if k not in ("cnf", "_sd_alg"))
        print(json.dumps(line, ensure_ascii=False))
    return 0


def local_verifier_ca(state_dir: Path) -> Path:
    """Where a running local cloud keeps its development CA for the verifier's certificate."""
    return state_dir / "wallet" / "verifier-ca.pem"


def _present(args: argparse.Namespace, wallet: Any, state_dir: Path) -> int:
    from gyeonggi_tools.wallet.holder import describe_plan, load_trust_anchors, present_request

    anchors_files = list(args.trust_anchor)
    if args.local:
        anchors_files.append(str(local_verifier_ca(state_dir)))
    anchors = load_trust_anchors(anchors_files)
    if args.request_json is not None:
        try:
            source: Any = json.loads(args.request_json.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise InvalidInput(f"{args.request_json}: not a JSON file") from None
    else:
        source = args.uri

    def consent(plan: Any) -> bool:
        print(describe_plan(plan), file=sys.stderr)
        if args.yes:
            return True
        return input("Send these claims? [y/N] ").strip().lower() in ("y", "yes")

    sent = present_request(source, wallet, anchors=anchors, consent=consent)
    print(json.dumps({"status": sent.status, "answer": sent.body, "sent_error": sent.sent_error}))
    return 0 if sent.accepted else 1


def _official(args: argparse.Namespace, state_dir: Path) -> int:
    """An official's side against a running ``local up``: a civil servant's token from the
    local issuer, the API's URL from the running cloud."""
    import urllib.request

    from localcloud.issuer import LocalIssuer
    from localcloud.up import running_api_url

    base = running_api_url(state_dir)
    token = LocalIssuer.load(state_dir).mint(
        ["civil-servant"], "wallet-cli-official", 3600, province=True
    )
    headers = {"Authorization": f"Bearer {token}"}
    if args.command == "request":
        query = json.loads(args.dcql.read_text(encoding="utf-8"))
        body: dict[str, Any] = {"dcql_query": query}
        if args.purpose:
            body["purpose"] = args.purpose
        answer = _call(base + "/verifier/requests", headers, json.dumps(body).encode())
        print(json.dumps(answer, ensure_ascii=False, indent=2))
        if args.qr is not None and "request_id" in answer:
            png = urllib.request.Request(
                f"{base}/verifier/requests/{answer['request_id']}/qr.png",
                headers={**headers, "Accept": "image/png"},
            )
            with urllib.request.urlopen(png, timeout=10) as response:
                args.qr.write_bytes(response.read())
        return 0
    print(
        json.dumps(
            _call(f"{base}/verifier/requests/{args.request_id}", headers),
            ensure_ascii=False,
            indent=2,
        )
    )
    return 0


def _call(url: str, headers: dict[str, str], data: bytes | None = None) -> Any:
    import urllib.error
    import urllib.request

    sent = {**headers, **({"Content-Type": "application/json"} if data is not None else {})}
    request = urllib.request.Request(url, data=data, headers=sent, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, "error": json.loads(exc.read() or b"null")}
