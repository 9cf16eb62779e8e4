"""Where moto's behaviour differs from AWS in a way the stack trips over, put right locally.

**Policy statements with conditions moto cannot check.** moto 5 (``IAMPolicyStatement``) has
none of a request's condition keys (``aws:SecureTransport``, ``s3:x-amz-server-side-encryption``
...) when it evaluates a bucket policy for S3, and treats a condition on a key it lacks as met:
every conditional ``Deny`` of a bucket policy then denies everything (a TLS-only statement
refuses every write over moto's loopback). Locally, a statement whose condition keys moto was
not given applies to nothing (``NEUTRAL``): a bucket policy's TLS-only and KMS-only denials
(``FormsBucketPolicy``) are stored as written but not enforced (there is no TLS on loopback to
enforce anyway), as IAM policies are not. Unconditional statements keep moto's evaluation.

**A cancelled transaction's stream records.** moto 5 runs a ``TransactWriteItems`` op by op and,
when one fails, puts back a deep copy of each table taken before: a new ``Table`` object with a
copy of its stream shard. The writes of the ops that had succeeded stay in the *old* shard's
records, which a stream reader holding an iterator keeps reading, while every later write goes
to the copy, which that reader never sees (the Data Dam's stream poller went blind to a table
after the complaint volumes' second surge claim was cancelled). DynamoDB writes nothing of a
cancelled transaction to a stream. Locally, the table object stays the one it was: its items are
taken back from moto's copy, and the records the cancelled ops added are dropped from its shard.
"""

from __future__ import annotations

from typing import Any

_original: Any = None
_original_transact: Any = None


def install() -> None:
    """Patch moto's policy statements and transaction rollbacks (idempotent)."""
    global _original
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    if _original is not None:
        return
    _install_transactions()
    original = IAMPolicyStatement.is_action_permitted

    def is_action_permitted(
        self: Any,
        action: str,
        resource: str = "*",
        principal: str | None = None,
        incoming_condition_values: dict[str, str] | None = None,
    ) -> Any:
        conditions = self._statement.get("Condition") or {}
        keys = {key for tests in conditions.values() for key in tests}
        if keys - set(incoming_condition_values or {}):
            return PermissionResult.NEUTRAL
        return original(self, action, resource, principal, incoming_condition_values)

    IAMPolicyStatement.is_action_permitted = is_action_permitted  # type: ignore[method-assign]
    _original = original


def _install_transactions() -> None:
    global _original_transact
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        names = {op.get("TableName") for item in transact_items for op in item.values()}
        tables = {n: self.tables[n] for n in names if n in self.tables}
        records = {n: len(t.stream_shard.items) for n, t in tables.items() if t.stream_shard}
        try:
            original(self, transact_items)
        except Exception:
            for name, table in tables.items():
                restored = self.tables.get(name)
                if restored is not None and restored is not table:
                    table.items = restored.items
                    self.tables[name] = table
                if name in records:
                    del table.stream_shard.items[records[name] :]
            raise

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _original_transact = original


def uninstall() -> None:
    """Restore moto as it was."""
    global _original, _original_transact
    from moto.dynamodb.models import DynamoDBBackend
    from moto.iam.access_control import IAMPolicyStatement

    if _original is not None:
        IAMPolicyStatement.is_action_permitted = _original  # type: ignore[method-assign]
        _original = None
    if _original_transact is not None:
        DynamoDBBackend.transact_write_items = _original_transact  # type: ignore[method-assign]
        _original_transact = None
