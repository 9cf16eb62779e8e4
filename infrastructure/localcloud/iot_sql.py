"""The subset of AWS IoT SQL (version 2016-03-23) that the local cloud evaluates.

moto stores ``AWS::IoT::TopicRule`` resources but never runs them, so the local cloud parses each
rule's SQL here and evaluates it against every MQTT message itself.

Grammar (keywords are case-insensitive)::

    query      := SELECT item ("," item)* FROM string [WHERE expr]
    item       := "*" | expr [AS identifier]
    expr       := or
    or         := and (OR and)*
    and        := not (AND not)*
    not        := NOT not | predicate
    predicate  := operand [cmp operand | IS [NOT] (NULL | UNDEFINED)]
    cmp        := "=" | "<>" | "!=" | "<" | "<=" | ">" | ">="
    operand    := literal | field | call | "(" expr ")" | "-" number
    field      := identifier ("." identifier)*
    call       := topic() | topic(n) | timestamp() | clientid() | isUndefined(expr) | isNull(expr)
                | encode(*, 'base64')
    literal    := 'string' | "string" | number | TRUE | FALSE

Everything else (other functions, arithmetic, ``CASE``, ``SELECT VALUE``, nested ``SELECT``,
array or object literals, ``[n]`` indexing, ``IN``/``LIKE``/``BETWEEN``, ``SET``) raises
:class:`UnsupportedIotSql` at parse time, so that a rule the emulation cannot honour stops the
local cloud at start-up instead of silently missing messages.

Evaluation follows the AWS documentation:

* A missing field is ``Undefined``; ``Undefined`` keys are left out of the SELECT output.
* ``< <= > >=`` convert both sides to numbers (strings matching ``-?\\d+(\\.\\d+)?(E-?\\d+)?`` are
  converted); anything else gives ``Undefined``.
* ``=``, ``<>`` and ``!=`` compare numbers with numbers, strings with strings, booleans with
  booleans, arrays and objects structurally; mixed types, ``Null`` or ``Undefined`` give
  ``Undefined``.
* ``AND``, ``OR`` and ``NOT`` take booleans or the strings ``"true"``/``"false"``; any other
  operand (including ``Undefined``) makes the result ``Undefined``.
* The WHERE clause passes only when it evaluates to true; ``Undefined`` counts as false.
* SQL version 2016-03-23 treats whole-number decimals (``10.0``) as integers (``10``); payloads
  are decoded the same way here.
* ``x IS NULL`` is true only for JSON ``null``; ``x IS NOT NULL`` is true when ``x`` has a
  value (defined and not ``null``), the reading a rule author means by "the field is present".
  ``x IS [NOT] UNDEFINED`` and ``isUndefined(x)`` test presence; ``isNull(x)`` is AWS's function.

Payloads that are not a JSON object (binary data, invalid JSON, a bare JSON array or scalar), as
AWS IoT treats them (developer guide: "Working with binary payloads", the ``*`` operator of "JSON
extensions", the rule metric ``ParseError``):

* ``SELECT *`` alone hands the raw bytes on (:meth:`IotQuery.evaluate` returns ``bytes``); a
  WHERE clause that reads a field sees ``Undefined``. What an action makes of bytes is the
  action's: a Lambda action needs JSON and fails, so the rule's error action gets the message.
* ``encode(*, 'base64')`` reads the payload as bytes and works on anything.
* Any other SELECT that reads the payload (a field, or ``*`` with more items: keys cannot be
  added to bytes) cannot be evaluated: AWS counts a ``ParseError``, logs it and runs neither the
  actions nor the error action (which covers failed actions only). Here the result is ``None``
  and :attr:`IotQuery.needs_object` tells the caller it was that, not a false WHERE.

An unaliased SELECT item must be a field reference (its key is the last path segment, as in
``SELECT a.b`` -> ``{"b": ...}``); functions and other expressions need ``AS alias``, because AWS's
generated key names are not something to rely on.
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

__all__ = [
    "UNDEFINED",
    "IotQuery",
    "UnsupportedIotSql",
    "decode_payload",
    "parse_iot_sql",
    "topic_matches",
    "validate_topic_filter",
]

SUPPORTED_FUNCTIONS: Final = (
    "topic",
    "timestamp",
    "clientid",
    "isUndefined",
    "isNull",
    "encode",
)


class UnsupportedIotSql(ValueError):
    """The rule SQL uses a construct the local emulation does not implement, or is malformed."""


class _Undefined:
    """AWS IoT SQL's ``Undefined``: the value of a missing field; never serialised."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "Undefined"

    def __bool__(self) -> bool:
        # Truthiness of Undefined is always a bug in the evaluator: make it loud.
        raise TypeError("Undefined has no truth value; use 'is UNDEFINED'")


UNDEFINED: Final = _Undefined()


# --------------------------------------------------------------------------------------------
# Topics
# --------------------------------------------------------------------------------------------


def validate_topic_filter(topic_filter: str) -> None:
    """Check an MQTT topic filter (``+`` one level, ``#`` the rest, as whole levels only).

    Parameters
    ----------
    topic_filter
        The filter, e.g. ``gyeonggi/safety/+/+/telemetry``.

    Raises
    ------
    UnsupportedIotSql
        When the filter is empty, contains NUL, or misplaces a wildcard.
    """
    if not topic_filter:
        raise UnsupportedIotSql("the topic filter is empty")
    if "\x00" in topic_filter:
        raise UnsupportedIotSql("the topic filter contains a NUL character")
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            raise UnsupportedIotSql(
                f"topic filter {topic_filter!r}: '#' must be a whole level and the last one"
            )
        if "+" in level and level != "+":
            raise UnsupportedIotSql(f"topic filter {topic_filter!r}: '+' must be a whole level")


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Tell whether an MQTT topic name matches a topic filter.

    Parameters
    ----------
    topic_filter
        A valid filter (see :func:`validate_topic_filter`).
    topic
        A topic name (no wildcards).

    Returns
    -------
    bool
        MQTT 3.1.1 semantics: ``+`` matches exactly one level (possibly empty), ``#`` matches the
        parent level and any number of levels below it, and wildcards in the first level never
        match topics that start with ``$`` (``$aws/...``, ``$SYS/...``).
    """
    if not topic or "+" in topic or "#" in topic:
        return False
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    filter_levels = topic_filter.split("/")
    topic_levels = topic.split("/")
    for index, level in enumerate(filter_levels):
        if level == "#":
            return True
        if index >= len(topic_levels):
            return False
        if level != "+" and level != topic_levels[index]:
            return False
    if len(topic_levels) == len(filter_levels):
        return True
    # 'a/b/#' also matches 'a/b' itself.
    return len(topic_levels) + 1 == len(filter_levels) and filter_levels[-1] == "#"


# --------------------------------------------------------------------------------------------
# Payloads and values
# --------------------------------------------------------------------------------------------


def _parse_float(text: str) -> int | float:
    # SQL version 2016-03-23 processes whole-number decimals such as 10.0 as Int 10.
    value = float(text)
    if value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; Python's json module accepts them unless told otherwise.
    raise ValueError(f"{name} is not valid JSON")


def decode_payload(payload: bytes | str | Mapping[str, Any]) -> dict[str, Any] | None:
    """Decode an MQTT payload the way the rules engine sees it.

    Parameters
    ----------
    payload
        The raw message payload (bytes or text); a mapping is taken as already decoded.

    Returns
    -------
    dict or None
        The JSON object, or ``None`` when the payload is not UTF-8 JSON or is JSON but not an
        object (array, scalar); see the module docstring for what that means for evaluation.
    """
    if isinstance(payload, Mapping):
        return dict(payload)
    try:
        document = json.loads(payload, parse_float=_parse_float, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) else None


_NUMERIC_STRING = re.compile(r"-?\d+(\.\d+)?([eE]-?\d+)?")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _to_decimal(value: object) -> Decimal | None:
    """AWS's conversion to Decimal for ordering comparisons; ``None`` means Undefined."""
    if _is_number(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return Decimal(str(value))
    if isinstance(value, str) and _NUMERIC_STRING.fullmatch(value):
        return Decimal(value)
    return None


def _to_boolean(value: object) -> bool | _Undefined:
    """AWS's operand rule for AND, OR, NOT: booleans, or the strings "true"/"false"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
    return UNDEFINED


def _equal(left: object, right: object) -> bool | _Undefined:
    if left is UNDEFINED or right is UNDEFINED or left is None or right is None:
        return UNDEFINED
    if _is_number(left) and _is_number(right):
        return left == right
    for kind in (str, bool, list, dict):
        if isinstance(left, kind) and isinstance(right, kind):
            return _json_equal(left, right)
    return UNDEFINED


def _json_equal(left: object, right: object) -> bool:
    """Structural equality with JSON's idea of types (``true`` is not ``1``)."""
    if _is_number(left) and _is_number(right):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_json_equal, left, right))
    return type(left) is type(right) and left == right


# --------------------------------------------------------------------------------------------
# Expression tree
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Context:
    topic: str
    document: dict[str, Any] | None
    client_id: str
    timestamp_ms: int | None
    raw: bytes = b""
    _levels: list[str] | None = None

    @property
    def levels(self) -> list[str]:
        if self._levels is None:
            self._levels = self.topic.split("/")
        return self._levels

    def now_ms(self) -> int:
        # One timestamp per message, however often the query calls timestamp().
        if self.timestamp_ms is None:
            self.timestamp_ms = time.time_ns() // 1_000_000
        return self.timestamp_ms


class _Expr:
    """A node of the expression tree."""

    __slots__ = ()

    def evaluate(self, ctx: _Context) -> Any:
        raise NotImplementedError

    def reads_payload(self) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class _Literal(_Expr):
    value: Any

    def evaluate(self, ctx: _Context) -> Any:
        return self.value


@dataclass(frozen=True, slots=True)
class _Field(_Expr):
    path: tuple[str, ...]

    def evaluate(self, ctx: _Context) -> Any:
        current: Any = ctx.document
        for name in self.path:
            if not isinstance(current, dict) or name not in current:
                return UNDEFINED
            current = current[name]
        return current

    def reads_payload(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class _Topic(_Expr):
    index: int | None

    def evaluate(self, ctx: _Context) -> Any:
        if self.index is None:
            return ctx.topic
        levels = ctx.levels
        return levels[self.index - 1] if self.index <= len(levels) else UNDEFINED


@dataclass(frozen=True, slots=True)
class _Timestamp(_Expr):
    def evaluate(self, ctx: _Context) -> Any:
        return ctx.now_ms()


@dataclass(frozen=True, slots=True)
class _ClientId(_Expr):
    def evaluate(self, ctx: _Context) -> Any:
        return ctx.client_id


@dataclass(frozen=True, slots=True)
class _EncodeBase64(_Expr):
    """``encode(*, 'base64')``: the payload's bytes, whatever they are (no JSON needed)."""

    def evaluate(self, ctx: _Context) -> Any:
        return base64.b64encode(ctx.raw).decode("ascii")


@dataclass(frozen=True, slots=True)
class _Is(_Expr):
    """``IS [NOT] NULL``, ``IS [NOT] UNDEFINED``, ``isNull()``, ``isUndefined()``."""

    operand: _Expr
    what: str  # "NULL" or "UNDEFINED"
    negated: bool

    def evaluate(self, ctx: _Context) -> Any:
        value = self.operand.evaluate(ctx)
        if self.what == "UNDEFINED":
            return (value is not UNDEFINED) if self.negated else (value is UNDEFINED)
        if self.negated:
            return value is not None and value is not UNDEFINED
        return value is None

    def reads_payload(self) -> bool:
        return self.operand.reads_payload()


@dataclass(frozen=True, slots=True)
class _Not(_Expr):
    operand: _Expr

    def evaluate(self, ctx: _Context) -> Any:
        value = _to_boolean(self.operand.evaluate(ctx))
        return UNDEFINED if value is UNDEFINED else not value

    def reads_payload(self) -> bool:
        return self.operand.reads_payload()


@dataclass(frozen=True, slots=True)
class _Logical(_Expr):
    op: str  # "AND" or "OR"
    left: _Expr
    right: _Expr

    def evaluate(self, ctx: _Context) -> Any:
        left = _to_boolean(self.left.evaluate(ctx))
        right = _to_boolean(self.right.evaluate(ctx))
        # AWS: any operand that is not a boolean (or "true"/"false") makes the result Undefined.
        if left is UNDEFINED or right is UNDEFINED:
            return UNDEFINED
        return (left and right) if self.op == "AND" else (left or right)

    def reads_payload(self) -> bool:
        return self.left.reads_payload() or self.right.reads_payload()


@dataclass(frozen=True, slots=True)
class _Compare(_Expr):
    op: str
    left: _Expr
    right: _Expr

    def evaluate(self, ctx: _Context) -> Any:
        left = self.left.evaluate(ctx)
        right = self.right.evaluate(ctx)
        if self.op in ("=", "<>", "!="):
            equal = _equal(left, right)
            if equal is UNDEFINED or self.op == "=":
                return equal
            return not equal
        a, b = _to_decimal(left), _to_decimal(right)
        if a is None or b is None:
            return UNDEFINED
        if self.op == "<":
            return a < b
        if self.op == "<=":
            return a <= b
        if self.op == ">":
            return a > b
        return a >= b

    def reads_payload(self) -> bool:
        return self.left.reads_payload() or self.right.reads_payload()


@dataclass(frozen=True, slots=True)
class SelectItem:
    """One item of the SELECT list: ``*`` (``expr is None``) or an expression and its key."""

    expr: _Expr | None
    key: str | None
    text: str


@dataclass(frozen=True)
class IotQuery:
    """A parsed rule query.

    Attributes
    ----------
    sql
        The SQL text as given.
    topic_filter
        The FROM clause's MQTT topic filter.
    items
        The SELECT list, in order.
    where
        The WHERE condition, or ``None``.
    reads_payload
        Whether the query reads the payload as JSON (``*`` or a field reference anywhere).
    needs_object
        Whether its SELECT cannot be evaluated on a payload that is no JSON object (a field,
        or ``*`` beside other items): AWS's ``ParseError``. ``SELECT *`` alone can.
    """

    sql: str
    topic_filter: str
    items: tuple[SelectItem, ...]
    where: _Expr | None
    reads_payload: bool = field(default=False)
    needs_object: bool = field(default=False)

    @property
    def star_only(self) -> bool:
        """``SELECT *`` with nothing beside it: bytes pass through as they came."""
        return len(self.items) == 1 and self.items[0].expr is None

    def matches_topic(self, topic: str) -> bool:
        """Tell whether a message on ``topic`` reaches this rule (MQTT wildcard semantics).

        Parameters
        ----------
        topic
            The message's topic name.

        Returns
        -------
        bool
            True when the FROM filter matches the topic.
        """
        return topic_matches(self.topic_filter, topic)

    def evaluate(
        self,
        topic: str,
        payload: bytes | str | Mapping[str, Any],
        *,
        client_id: str = "",
        timestamp_ms: int | None = None,
    ) -> dict[str, Any] | bytes | None:
        """Run the rule on one message.

        Parameters
        ----------
        topic
            The topic the message was published on.
        payload
            The raw payload (a mapping is taken as an already decoded JSON object).
        client_id
            What ``clientid()`` returns; MQTT does not tell subscribers the publisher's id, so
            this is usually ``""`` locally.
        timestamp_ms
            What ``timestamp()`` returns; default: now, in milliseconds since the epoch.

        Returns
        -------
        dict, bytes or None
            The outgoing payload: a JSON object, or the payload's bytes for ``SELECT *`` on a
            payload that is no JSON object; ``None`` when the topic does not match, the WHERE
            clause is not true, or the SELECT :attr:`needs_object` and the payload is none.
        """
        if not self.matches_topic(topic):
            return None
        if isinstance(payload, Mapping):
            raw = json.dumps(payload).encode("utf-8")
        else:
            raw = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        return self.evaluate_document(
            topic, decode_payload(payload), raw=raw, client_id=client_id, timestamp_ms=timestamp_ms
        )

    def evaluate_document(
        self,
        topic: str,
        document: dict[str, Any] | None,
        *,
        raw: bytes = b"",
        client_id: str = "",
        timestamp_ms: int | None = None,
    ) -> dict[str, Any] | bytes | None:
        """Run the rule on a payload already decoded by :func:`decode_payload`.

        The topic is not matched again (the caller routes by :meth:`matches_topic`), so that a
        message reaching several rules is decoded once.

        Parameters
        ----------
        topic
            The topic the message was published on.
        document
            The decoded JSON object, or ``None`` for a payload that is not one.
        raw
            The payload's bytes, as published (what ``SELECT *`` passes on for a payload that
            is no JSON object, and what ``encode(*, 'base64')`` encodes).
        client_id, timestamp_ms
            As for :meth:`evaluate`.

        Returns
        -------
        dict, bytes or None
            As for :meth:`evaluate`. Nested values are shared with ``document``, not copied.
        """
        if document is None and self.needs_object:
            return None
        ctx = _Context(topic, document, client_id, timestamp_ms, raw)
        if self.where is not None and _to_boolean(self.where.evaluate(ctx)) is not True:
            return None
        if document is None and self.star_only:
            return raw
        result: dict[str, Any] = {}
        for item in self.items:
            if item.expr is None:
                if document is not None:
                    result.update(document)
                continue
            value = item.expr.evaluate(ctx)
            if value is not UNDEFINED:
                assert item.key is not None
                result[item.key] = value
        return result


# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # STRING NUMBER IDENT OP PUNCT EOF
    value: Any
    pos: int
    text: str


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><>|!=|<=|>=|=|<|>|\|\||[-+*/%])
  | (?P<punct>[(),.\[\]{}:])
  | (?P<quote>['"])
    """,
    re.VERBOSE,
)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "/": "/"}


def _tokenize(sql: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(sql):
        match = _TOKEN_RE.match(sql, pos)
        if match is None:
            raise UnsupportedIotSql(
                f"unexpected character {sql[pos]!r} at position {pos} in {sql!r}"
            )
        kind = match.lastgroup
        if kind == "ws":
            pos = match.end()
        elif kind == "quote":
            value, end = _read_string(sql, pos)
            tokens.append(_Token("STRING", value, pos, sql[pos:end]))
            pos = end
        else:
            text = match.group()
            if kind == "number":
                number: int | float = int(text) if text.isdigit() else _parse_float(text)
                tokens.append(_Token("NUMBER", number, pos, text))
            else:
                assert kind is not None
                tokens.append(_Token(kind.upper(), text, pos, text))
            pos = match.end()
    tokens.append(_Token("EOF", None, len(sql), "end of query"))
    return tokens


def _read_string(sql: str, start: int) -> tuple[str, int]:
    quote = sql[start]
    chars: list[str] = []
    pos = start + 1
    while pos < len(sql):
        char = sql[pos]
        if char == "\\" and pos + 1 < len(sql):
            chars.append(_ESCAPES.get(sql[pos + 1], "\\" + sql[pos + 1]))
            pos += 2
        elif char == quote:
            return "".join(chars), pos + 1
        else:
            chars.append(char)
            pos += 1
    raise UnsupportedIotSql(f"unterminated string literal starting at position {start}")


# --------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------

_COMPARISONS: Final = frozenset({"=", "<>", "!=", "<", "<=", ">", ">="})
_KEYWORDS: Final = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "AS",
        "AND",
        "OR",
        "NOT",
        "IS",
        "NULL",
        "UNDEFINED",
        "TRUE",
        "FALSE",
    }
)
# Constructs of the full language, recognised only to name them in the error message.
_UNSUPPORTED_WORDS: Final = {
    "CASE": "CASE expressions are",
    "IN": "the IN operator is",
    "LIKE": "the LIKE operator is",
    "BETWEEN": "the BETWEEN operator is",
    "SET": "the SET clause is",
    "ORDER": "ORDER BY is",
    "GROUP": "GROUP BY is",
    "LIMIT": "LIMIT is",
    "JOIN": "JOIN is",
}


class _Parser:
    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.tokens = _tokenize(sql)
        self.index = 0

    # -- token helpers ------------------------------------------------------------------------

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def peek(self, offset: int = 1) -> _Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.token
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def is_word(self, word: str, token: _Token | None = None) -> bool:
        token = token or self.token
        return token.kind == "IDENT" and token.value.upper() == word

    def is_punct(self, char: str) -> bool:
        return self.token.kind == "PUNCT" and self.token.value == char

    def error(self, message: str, token: _Token | None = None) -> UnsupportedIotSql:
        token = token or self.token
        return UnsupportedIotSql(f"{message} (at position {token.pos} in {self.sql!r})")

    def expect_word(self, word: str) -> None:
        if not self.is_word(word):
            raise self.error(f"expected {word}, found {self.token.text!r}")
        self.advance()

    def expect_punct(self, char: str) -> None:
        if not self.is_punct(char):
            raise self.error(f"expected {char!r}, found {self.token.text!r}")
        self.advance()

    # -- query ---------------------------------------------------------------------------------

    def parse_query(self) -> IotQuery:
        self.expect_word("SELECT")
        if self.is_word("VALUE") and self._starts_operand(self.peek()):
            raise self.error("SELECT VALUE is not supported by the local IoT SQL emulation")
        items = [self.parse_item()]
        while self.is_punct(","):
            self.advance()
            items.append(self.parse_item())
        if not self.is_word("FROM"):
            raise self._unexpected("expected ',' or FROM after a SELECT item")
        self.advance()
        if self.token.kind != "STRING":
            raise self.error(
                f"the FROM clause needs a quoted topic filter, found {self.token.text!r}"
            )
        topic_filter = self.advance().value
        validate_topic_filter(topic_filter)
        where: _Expr | None = None
        if self.is_word("WHERE"):
            self.advance()
            where = self.parse_expr()
        if self.token.kind != "EOF":
            raise self._unexpected("expected the end of the query")
        reads = any(i.expr is None or i.expr.reads_payload() for i in items) or (
            where is not None and where.reads_payload()
        )
        needs_object = any(i.expr is not None and i.expr.reads_payload() for i in items) or (
            len(items) > 1 and any(i.expr is None for i in items)
        )
        return IotQuery(self.sql, topic_filter, tuple(items), where, reads, needs_object)

    def parse_item(self) -> SelectItem:
        start = self.token
        if self.token.kind == "OP" and self.token.value == "*":
            self.advance()
            return SelectItem(None, None, "*")
        expr = self.parse_expr()
        text = self.sql[start.pos : self.token.pos].strip()
        if self.is_word("AS"):
            self.advance()
            alias = self.token
            if alias.kind != "IDENT":
                raise self.error(f"expected an alias after AS, found {alias.text!r}")
            self.advance()
            if self.is_punct("."):
                raise self.error(f"dotted alias {alias.text}.<name> is not supported locally")
            return SelectItem(expr, alias.value, text)
        if isinstance(expr, _Field):
            return SelectItem(expr, expr.path[-1], text)
        raise self.error(
            f"SELECT item {text!r} needs an AS alias in the local IoT SQL emulation "
            "(only plain field references may go without one)",
            start,
        )

    # -- expressions --------------------------------------------------------------------------

    def parse_expr(self) -> _Expr:
        left = self.parse_and()
        while self.is_word("OR"):
            self.advance()
            left = _Logical("OR", left, self.parse_and())
        return left

    def parse_and(self) -> _Expr:
        left = self.parse_not()
        while self.is_word("AND"):
            self.advance()
            left = _Logical("AND", left, self.parse_not())
        return left

    def parse_not(self) -> _Expr:
        if self.is_word("NOT"):
            self.advance()
            return _Not(self.parse_not())
        return self.parse_predicate()

    def parse_predicate(self) -> _Expr:
        left = self.parse_operand()
        token = self.token
        if token.kind == "OP" and token.value in _COMPARISONS:
            self.advance()
            right = self.parse_operand()
            if self.token.kind == "OP" and self.token.value in _COMPARISONS:
                raise self.error("chained comparisons (a < b < c) are not supported; use AND")
            self._reject_operator()
            return _Compare(token.value, left, right)
        if self.is_word("IS"):
            self.advance()
            negated = False
            if self.is_word("NOT"):
                self.advance()
                negated = True
            if self.is_word("NULL"):
                self.advance()
                return _Is(left, "NULL", negated)
            if self.is_word("UNDEFINED"):
                self.advance()
                return _Is(left, "UNDEFINED", negated)
            raise self.error(f"expected NULL or UNDEFINED after IS, found {self.token.text!r}")
        self._reject_operator()
        return left

    def parse_operand(self) -> _Expr:
        token = self.token
        if token.kind == "STRING":
            self.advance()
            return _Literal(token.value)
        if token.kind == "NUMBER":
            self.advance()
            return _Literal(token.value)
        if token.kind == "OP" and token.value == "-":
            if self.peek().kind == "NUMBER":
                self.advance()
                return _Literal(-self.advance().value)
            raise self.error("arithmetic (unary minus on an expression) is not supported locally")
        if token.kind == "OP" and token.value == "*":
            raise self.error("'*' is only allowed as a whole SELECT item")
        if self.is_punct("("):
            self.advance()
            if self.is_word("SELECT"):
                raise self.error("nested SELECT queries are not supported locally")
            inner = self.parse_expr()
            self.expect_punct(")")
            return inner
        if self.is_punct("["):
            raise self.error("array literals are not supported locally")
        if self.is_punct("{"):
            raise self.error("object literals are not supported locally")
        if token.kind == "IDENT":
            return self.parse_identifier()
        raise self._unexpected("expected a value")

    def parse_identifier(self) -> _Expr:
        token = self.advance()
        word = token.value.upper()
        if word in ("TRUE", "FALSE"):
            return _Literal(word == "TRUE")
        if word == "NULL":
            raise self.error(
                "the NULL literal is not supported locally; test with IS NULL / IS NOT NULL",
                token,
            )
        if word == "SELECT":
            raise self.error("nested SELECT queries are not supported locally", token)
        if word in _UNSUPPORTED_WORDS:
            raise self.error(f"{_UNSUPPORTED_WORDS[word]} not supported locally", token)
        if word in _KEYWORDS:
            raise self.error(f"unexpected keyword {token.text}", token)
        if self.is_punct("("):
            return self.parse_call(token)
        path = [token.value]
        while self.is_punct("."):
            self.advance()
            part = self.token
            if part.kind != "IDENT":
                raise self.error(
                    f"expected a field name after '.', found {part.text!r} (use get() for "
                    "names with digits or hyphens, which is not supported locally)"
                )
            self.advance()
            if self.is_punct("("):
                raise self.error(f"method-style call {part.text}(...) is not supported", part)
            path.append(part.value)
        if self.is_punct("["):
            raise self.error("array indexing ([n]) is not supported locally")
        return _Field(tuple(path))

    def parse_call(self, name_token: _Token) -> _Expr:
        name = name_token.value
        lowered = name.lower()
        # Name the unsupported function before its arguments can fail in some other way.
        if lowered not in {f.lower() for f in SUPPORTED_FUNCTIONS}:
            raise self.error(
                f"function {name}() is not supported by the local IoT SQL emulation "
                f"(supported: {', '.join(f + '()' for f in SUPPORTED_FUNCTIONS)})",
                name_token,
            )
        self.expect_punct("(")
        if lowered == "topic":
            index = None if self.is_punct(")") else self._topic_index()
            self.expect_punct(")")
            return _Topic(index)
        if lowered == "encode":
            return self._encode(name_token)
        args: list[_Expr] = []
        if not self.is_punct(")"):
            if self.token.kind == "OP" and self.token.value == "*":
                raise self.error(f"{name}(*) is not supported locally", name_token)
            args.append(self.parse_expr())
            while self.is_punct(","):
                self.advance()
                args.append(self.parse_expr())
        self.expect_punct(")")
        if lowered in ("timestamp", "clientid"):
            if args:
                raise self.error(f"{name}() takes no arguments", name_token)
            return _Timestamp() if lowered == "timestamp" else _ClientId()
        if len(args) != 1:
            raise self.error(f"{name}() takes exactly one argument", name_token)
        return _Is(args[0], "UNDEFINED" if lowered == "isundefined" else "NULL", False)

    def _encode(self, name_token: _Token) -> _Expr:
        # Only the form a rule uses to pass any payload on as bytes: encode(*, 'base64').
        if not (self.token.kind == "OP" and self.token.value == "*"):
            raise self.error(
                f"{name_token.value}() is supported locally only as encode(*, 'base64')",
                name_token,
            )
        self.advance()
        self.expect_punct(",")
        if self.token.kind != "STRING" or self.token.value != "base64":
            raise self.error(
                f"{name_token.value}() is supported locally only as encode(*, 'base64')",
                name_token,
            )
        self.advance()
        self.expect_punct(")")
        return _EncodeBase64()

    def _topic_index(self) -> int:
        token = self.token
        if token.kind != "NUMBER" or not isinstance(token.value, int) or token.value < 1:
            raise self.error(
                f"topic(n) needs one positive integer literal, found {token.text!r}", token
            )
        self.advance()
        return token.value

    # -- errors -------------------------------------------------------------------------------

    @staticmethod
    def _starts_operand(token: _Token) -> bool:
        if token.kind in ("STRING", "NUMBER"):
            return True
        if token.kind == "PUNCT":
            return token.value in ("(", "[", "{")
        if token.kind == "IDENT":
            return token.value.upper() not in ("FROM", "AS")
        return False

    def _reject_operator(self) -> None:
        token = self.token
        if token.kind == "OP" and token.value in ("+", "-", "*", "/", "%"):
            raise self.error(f"arithmetic operator {token.value!r} is not supported locally")
        if token.kind == "OP" and token.value == "||":
            raise self.error("string concatenation '||' is not supported locally")
        if token.kind == "IDENT" and token.value.upper() in _UNSUPPORTED_WORDS:
            raise self.error(f"{_UNSUPPORTED_WORDS[token.value.upper()]} not supported locally")

    def _unexpected(self, message: str) -> UnsupportedIotSql:
        self._reject_operator()
        return self.error(f"{message}, found {self.token.text!r}")


def parse_iot_sql(sql: str) -> IotQuery:
    """Parse a rule's SQL into an :class:`IotQuery`.

    Parameters
    ----------
    sql
        ``SELECT <* | expr [AS alias], ...> FROM '<topic filter>' [WHERE <condition>]``.

    Returns
    -------
    IotQuery
        The parsed query, ready to evaluate messages.

    Raises
    ------
    UnsupportedIotSql
        For malformed SQL and for any construct outside the supported subset; the message names
        the construct and its position.
    """
    if not isinstance(sql, str) or not sql.strip():
        raise UnsupportedIotSql("the rule SQL is empty")
    if re.match(r"\s*SET\b", sql, re.IGNORECASE):
        # Checked before tokenizing: SET's @variables would fail as an odd character instead.
        raise UnsupportedIotSql(
            f"the SET clause is not supported by the local IoT SQL emulation in {sql!r}"
        )
    return _Parser(sql).parse_query()
