"""The reasons of VerificationFailed: each has a sentence, is in docs/WALLET.md's table, and is
raised by some test of the wallet."""

from __future__ import annotations

import ast
import re

import pytest

from gyeonggi.common.errors import InvalidInput
from gyeonggi.wallet.errors import REASONS, VerificationFailed
from tests.conftest import ROOT


def test_every_reason_is_documented_and_every_documented_reason_exists() -> None:
    text = (ROOT / "docs" / "WALLET.md").read_text(encoding="utf-8")
    table = text[text.index("| reason | refused because |") :]
    table = table[: table.index("\n\n")]
    documented = re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.MULTILINE)
    assert len(documented) == len(set(documented)), "a reason documented twice"
    assert set(documented) == set(REASONS)


def test_every_reason_has_a_sentence_and_unknown_reasons_are_a_bug() -> None:
    assert all(sentence and not sentence.endswith(".") for sentence in REASONS.values())
    assert str(VerificationFailed("revoked")) == REASONS["revoked"]
    assert isinstance(VerificationFailed("revoked"), InvalidInput)
    with pytest.raises(ValueError):
        VerificationFailed("no-such-reason")


def test_every_reason_is_asserted_by_a_test() -> None:
    literals: set[str] = set()
    for path in (ROOT / "tests" / "unit").glob("test_wallet_*.py"):
        if path.name == "test_wallet_errors.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        literals |= {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
    untested = sorted(set(REASONS) - literals)
    assert not untested, f"reasons no wallet test names: {untested}"
