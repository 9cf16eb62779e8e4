"""Analysts' SQL: checked once, then written out for the engine that runs it.

Analysts write **Trino SQL** (Athena engine version 3 is Trino), the dialect of the engine the
province runs in AWS; :meth:`Statement.for_duckdb` translates it with sqlglot for DuckDB on one
machine, and :meth:`Statement.for_athena` writes it back for Athena with the stack's Glue
database. Functions with no counterpart in the other dialect fail there with the engine's own
message (a 400), never silently.

What a statement may be (:func:`parse_statement`), each refusal a :class:`InvalidQuery` naming
what was wrong:

- exactly one statement, a query: ``SELECT``, ``WITH ... SELECT``, or ``UNION`` /
  ``INTERSECT`` / ``EXCEPT`` of them. Nothing that writes, defines, sets or loads
  (``INSERT``, ``CREATE``, ``SELECT ... INTO``, ``PRAGMA``, ``ATTACH``, ``COPY``, ``SET``...);
- tables only of the catalogue, in the ``gyeonggi_datadam`` namespace (``complaints`` or
  ``gyeonggi_datadam.complaints``), or the query's own ``WITH`` names; no table functions, no
  quoted file names, no other catalog or schema;
- no function that reads files, the network, the environment or the engine's settings;
- at most ``max_rows`` rows: the outer ``LIMIT`` is lowered to it, or added.

The DuckDB engine enforces the same again where it runs (external access limited to the
warehouse, configuration locked): the check here is for a clear answer, not the only wall.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from gyeonggi.common.errors import InvalidInput

#: The dialect analysts write in.
DIALECT = "trino"
#: Longer SQL than this is not a question an analyst typed.
MAX_SQL_CHARS = 20_000

# Functions that reach outside the tables (DuckDB's and Trino's names); prefixes and names.
_FORBIDDEN_PREFIXES = (
    "read_",
    "parquet_",
    "iceberg_",
    "delta_",
    "duckdb_",
    "pragma_",
    "sniff_",
    "glob",
    "http_",
    "s3_",
    "ducklake_",
    "sqlite_",
    "postgres_",
    "mysql_",
)
_FORBIDDEN_FUNCTIONS = frozenset(
    {
        "getenv",
        "current_setting",
        "query",
        "query_table",
        "load_extension",
        "install",
        "load",
        "system",
        "table",
        "which_secret",
        "checkpoint",
        "force_checkpoint",
        "enable_profiling",
        "readcsv",
        "readparquet",
    }
)
# Statements and clauses that write, define, configure or leave the query language.
_FORBIDDEN_NODES: tuple[type[exp.Expression], ...] = (
    exp.Into,
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Command,
    exp.Pragma,
    exp.Copy,
    exp.Set,
    exp.Describe,
    exp.Use,
    exp.TruncateTable,
    exp.LoadData,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Cache,
    exp.Uncache,
    exp.Refresh,
)


class InvalidQuery(InvalidInput):
    """SQL the Data Dam will not run; the message says what to change (HTTP 400)."""

    code = "invalid_query"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="sql")


@dataclass(frozen=True)
class Statement:
    """A checked query: its tree (Trino), the datasets it reads and its row limit."""

    tree: exp.Query
    datasets: tuple[str, ...]
    row_limit: int
    namespace: str

    def for_athena(self, database: str) -> str:
        """The query for Athena, its tables in the Glue ``database`` of the stack."""
        return _with_database(self.tree, self.namespace, database).sql(dialect="athena")

    def for_duckdb(self) -> str:
        """The query for DuckDB, where the namespace is a schema of views over the tables."""
        return _strict_comparisons_spelled_out(self.tree).sql(dialect="duckdb")

    @property
    def sql(self) -> str:
        """The checked query in the analysts' dialect (with its limit)."""
        return self.tree.sql(dialect=DIALECT)


def parse_statement(
    sql: object, datasets: Collection[str], *, namespace: str, max_rows: int
) -> Statement:
    """Check ``sql`` (module docstring) and return it as a :class:`Statement`.

    Parameters
    ----------
    sql
        The analyst's text; anything but a non-empty string is refused.
    datasets
        The ids of the catalogued tables it may read.
    namespace
        The Iceberg namespace (Glue database) tables are named in, ``gyeonggi_datadam``.
    max_rows
        The most rows an answer holds.

    Raises
    ------
    InvalidQuery
        What was wrong, in words an analyst can act on.
    """
    if not isinstance(sql, str) or not sql.strip():
        raise InvalidQuery("sql: give one SELECT statement as a string")
    if len(sql) > MAX_SQL_CHARS:
        raise InvalidQuery(f"sql: longer than {MAX_SQL_CHARS} characters")
    try:
        trees = [t for t in sqlglot.parse(sql, read=DIALECT) if t is not None]
    except (ParseError, TokenError) as exc:
        raise InvalidQuery(f"sql does not parse as Trino SQL: {_first_line(exc)}") from None
    if len(trees) != 1:
        raise InvalidQuery(f"sql: exactly one statement, not {len(trees)}")
    tree = trees[0]
    if not isinstance(tree, exp.Select | exp.SetOperation):
        first = sql.split(maxsplit=1)[0].upper()[:20]
        raise InvalidQuery(
            f"sql: only a query (SELECT, or WITH ... SELECT) is allowed, not {first}...: "
            "the Data Dam is read-only"
        )
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise InvalidQuery(f"sql: {node.key.upper()} is not allowed: the Data Dam is read-only")
        if isinstance(node, exp.Func):
            _check_function(node)
    if isinstance(tree, exp.Select) and not tree.expressions:
        raise InvalidQuery("sql: the SELECT names no columns")
    read = _check_tables(tree, datasets, namespace)
    limited = _limit(tree, max_rows)
    return Statement(limited, read, max_rows, namespace)


def _first_line(exc: Exception) -> str:
    # sqlglot's message carries the statement with terminal colour codes after the first line.
    return str(exc).splitlines()[0][:300]


def _check_function(node: exp.Func) -> None:
    name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
    if name in _FORBIDDEN_FUNCTIONS or name.startswith(_FORBIDDEN_PREFIXES):
        raise InvalidQuery(
            f"sql: function {name} is not allowed: queries read the catalogued tables only"
        )


def _check_tables(tree: exp.Query, datasets: Collection[str], namespace: str) -> tuple[str, ...]:
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    read: list[str] = []
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise InvalidQuery(
                "sql: table functions are not allowed (FROM takes a catalogued table): "
                + table.this.sql(dialect=DIALECT)[:100]
            )
        name = table.name.lower()
        db = table.db.lower()
        if table.catalog:
            raise InvalidQuery(
                f"sql: name tables as {namespace}.<dataset>, without a catalog ({table.catalog})"
            )
        if table.args.get("version") is not None:
            raise InvalidQuery("sql: time travel (FOR VERSION/TIMESTAMP AS OF) is not offered")
        if not db and name in ctes:
            continue
        if db and db != namespace:
            raise InvalidQuery(f"sql: only tables of {namespace} may be read, not {db}.{name}")
        if name not in datasets:
            raise InvalidQuery(
                f"sql: no dataset {name!r} in the catalogue (GET /datadam/datasets lists them)"
            )
        # Written out by the engines as namespace.table, whatever the analyst wrote.
        table.set("db", exp.to_identifier(namespace))
        table.set("this", exp.to_identifier(name))
        if name not in read:
            read.append(name)
    if not read:
        raise InvalidQuery("sql: the query reads no dataset of the catalogue")
    return tuple(read)


def _limit(tree: exp.Query, max_rows: int) -> exp.Query:
    current = tree.args.get("limit")
    wanted = max_rows
    if current is not None:
        count = current.args.get("count") if isinstance(current, exp.Fetch) else current.expression
        if not isinstance(count, exp.Literal) or count.is_string or not count.is_int:
            raise InvalidQuery("sql: LIMIT must be a whole number")
        wanted = min(int(count.this), max_rows)
    tree.set("limit", exp.Limit(expression=exp.Literal.number(wanted)))
    return tree


def _strict_comparisons_spelled_out(tree: exp.Query) -> exp.Query:
    """``a < b`` as ``(a <= b AND a <> b)``, ``>`` alike: the same truth value, NULL included.

    Measured: DuckDB 1.4.4's iceberg extension prunes every file for a strict comparison on a
    ``date`` column partitioned by identity (``day < DATE '2026-11-12'`` gives no rows, ``<=``
    the right ones; tests/unit/test_datadam_duckdb.py keeps the case), so DuckDB never sees one.
    """

    def spell_out(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.LT | exp.GT):
            wide = exp.LTE if isinstance(node, exp.LT) else exp.GTE
            left, right = node.this, node.expression
            return exp.Paren(
                this=exp.And(
                    this=wide(this=left.copy(), expression=right.copy()),
                    expression=exp.NEQ(this=left.copy(), expression=right.copy()),
                )
            )
        return node

    spelled = tree.copy().transform(spell_out)
    assert isinstance(spelled, exp.Query)  # the root is a query, never a comparison
    return spelled


def _with_database(tree: exp.Query, namespace: str, database: str) -> exp.Query:
    if database == namespace:
        return tree
    out = tree.copy()
    for table in out.find_all(exp.Table):
        if table.db.lower() == namespace:
            table.set("db", exp.to_identifier(database))
    return out
