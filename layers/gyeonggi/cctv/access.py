"""Who may see and manage which camera: control-centre operators, by jurisdiction.

Decision: a city's control-centre operators are ``operator``s (the role of people who watch and
run things) whose ``custom:jurisdictions`` names their city or county, the claim civil servants
already carry for the same meaning ("the cities and counties I serve"). No new claim: Cognito
custom attributes cannot be removed once a pool has them, the app client already may read but
not write this one, and the ops view already scopes operators by it. An operator's
``custom:complexes`` (the industrial complexes whose incidents they answer) grants no camera:
the incidents carry their evidence, the registry is the control centres'. The ``province``
group sees and manages every camera.

Only operators: a civil servant of the same city handles complaints, not video (the Personal
Information Protection Act limits access to video to those who operate the cameras).

A camera of another jurisdiction is ``403``, not ``404``: cameras and their places are public
data (the same rows anyone downloads), so their existence is no secret; the answer tells the
operator to ask the right city's control centre.
"""

from __future__ import annotations

from gyeonggi.auth import JURISDICTIONS_CLAIM, OPERATOR, PROVINCE, Principal
from gyeonggi.cctv.models import Camera
from gyeonggi.common.errors import Forbidden
from gyeonggi.complaints.jurisdictions import JURISDICTIONS

ROLES = (OPERATOR,)
_ALL = tuple(sorted(j.id for j in JURISDICTIONS))


def scope(principal: Principal) -> tuple[str, ...]:
    """The jurisdictions whose cameras ``principal`` sees, sorted.

    Raises
    ------
    Forbidden
        The token is no operator's, or names no jurisdiction (and is not the province's).
    """
    if not principal.has_any_role(*ROLES):
        raise Forbidden("CCTV cameras are for control-centre operators (role operator)")
    if principal.is_province:
        return _ALL
    known = tuple(j for j in _ALL if j in principal.jurisdictions)
    if not known:
        raise Forbidden(
            f"your token names no jurisdiction ({JURISDICTIONS_CLAIM}) and is not the "
            f"{PROVINCE}'s: it may see no camera"
        )
    return known


def require_jurisdiction(principal: Principal, jurisdiction: str) -> None:
    """Raise :class:`Forbidden` unless ``jurisdiction`` is in the operator's scope."""
    if jurisdiction not in scope(principal):
        raise Forbidden(
            f"{jurisdiction} is outside the jurisdictions of your account: its control centre "
            "manages its cameras"
        )


def require_camera(principal: Principal, camera: Camera) -> None:
    """Raise :class:`Forbidden` unless the operator may see and manage ``camera``."""
    require_jurisdiction(principal, camera.jurisdiction)
