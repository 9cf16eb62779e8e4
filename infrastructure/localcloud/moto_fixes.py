"""Where moto's behaviour differs from AWS in a way the stack trips over, put right locally.

**Policy statements with conditions moto cannot check.** moto 5 (``IAMPolicyStatement``) has
none of a request's condition keys (``aws:SecureTransport``, ``s3:x-amz-server-side-encryption``
...) when it evaluates a bucket policy for S3, and treats a condition on a key it lacks as met:
every conditional ``Deny`` of a bucket policy then denies everything (a TLS-only statement
refuses every write over moto's loopback). Locally, a statement whose condition keys moto was
not given applies to nothing (``NEUTRAL``): a bucket policy's TLS-only and KMS-only denials
(``FormsBucketPolicy``) are stored as written but not enforced (there is no TLS on loopback to
enforce anyway), as IAM policies are not. Unconditional statements keep moto's evaluation.
"""

from __future__ import annotations

from typing import Any

_original: Any = None


def install() -> None:
    """Patch moto's policy statements (idempotent)."""
    global _original
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    if _original is not None:
        return
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


def uninstall() -> None:
    """Restore moto as it was."""
    global _original
    from moto.iam.access_control import IAMPolicyStatement

    if _original is not None:
        IAMPolicyStatement.is_action_permitted = _original  # type: ignore[method-assign]
        _original = None
