"""How long a camera's video is kept: retention classes, one S3 prefix each.

The Personal Information Protection Act asks a CCTV operator to destroy footage without delay
once the retention period it declared is over (30 days when it declared none, as the Personal
Information Protection Commission's standard guidelines say). Each camera declares its own
(the ``보관일수`` of the public data), and S3 lifecycle rules are what delete segments, so the
retention must be readable from the object itself. Two ways exist:

- **object tags** (``retention=90``): a lifecycle rule filters on a tag, but no rule can say
  "objects *without* the tag": the default rule for untagged uploads would also match every
  tagged object, and S3 applies the earliest expiry among overlapping rules, so no class could be
  longer than the default. Tags also cost per object and month (about 2.6 billion objects at the
  province's scale, docs/ARCHITECTURE.md).
- **a prefix per class**, chosen here: ``cctv/`` is the 30-day class (the default, and the
  prefix recorders already use), ``cctv-{days}d/`` every other class. The prefixes are disjoint
  (``cctv/`` is not a prefix of ``cctv-7d/``), so each object matches exactly one rule, and a
  prefix costs nothing.

A camera's ``segment_prefix`` is ``{class root}/{jurisdiction}/{camera_id}/``; a retention change
moves the camera to another class root for the segments recorded after it (its recorder is
given the new prefix), while the segments already stored expire under the class they were
written in. ``template.yaml`` declares one lifecycle rule per class;
``tests/contract/test_cctv_template.py`` holds the two to :func:`lifecycle_rules`.

A declared retention between classes is rounded *down* to the class below: never keep video
longer than declared. ``0`` (live monitoring only, nothing recorded) and ``1`` both get the
shortest class, one day, the least S3 lifecycle can do.

The bucket is versioned, so an expiry only turns the segment into a noncurrent version, which
a second rule deletes a day later. Operators' policies say "within N days" (촬영일로부터 30일
이내): a class of N days therefore expires segments after N - 1 days and their bytes after N
(one day and two for the shortest class), plus the lag S3 takes to run lifecycle rules.
"""

from __future__ import annotations

import re
from typing import Any

#: The retention classes, in days. One lifecycle rule each (S3 allows 1,000 per bucket).
CLASSES: tuple[int, ...] = (1, 3, 7, 10, 14, 15, 20, 30, 45, 60, 90, 180, 365)
#: A camera that declares no retention keeps its video this long (and this class's prefix is
#: the recorders' original ``cctv/``).
DEFAULT_DAYS = 30
#: The longest retention a camera may declare (ten years); above a year, a year is kept.
MAX_DECLARED_DAYS = 3650
#: The prefix every class root starts with: the analysis function's S3 notification filter.
ROOT_PREFIX = "cctv"
#: Keyframes (a frame of a segment, boxes drawn) are kept as long as their segment: under this
#: root, then their segment's class root, where a second rule of the class expires them.
KEYFRAME_ROOT = "keyframes"

_ROOT = re.compile(r"^cctv(?:-(?P<days>[0-9]{1,3})d)?$")


def retention_class(declared_days: int) -> int:
    """The class a declared retention is kept in: the longest class not above it.

    Raises
    ------
    ValueError
        ``declared_days`` is negative or above :data:`MAX_DECLARED_DAYS`.
    """
    if not 0 <= declared_days <= MAX_DECLARED_DAYS:
        raise ValueError(f"must be between 0 and {MAX_DECLARED_DAYS} days")
    return max((c for c in CLASSES if c <= declared_days), default=CLASSES[0])


def class_root(class_days: int) -> str:
    """``cctv`` for the default class, ``cctv-{days}d`` for the others."""
    if class_days not in CLASSES:
        raise ValueError(f"{class_days} is not a retention class")
    return ROOT_PREFIX if class_days == DEFAULT_DAYS else f"{ROOT_PREFIX}-{class_days}d"


def root_days(root: str) -> int | None:
    """The class of a class root (``cctv-7d`` -> 7, ``cctv`` -> 30); ``None`` if it is none."""
    match = _ROOT.match(root)
    if match is None:
        return None
    days = int(match["days"]) if match["days"] else DEFAULT_DAYS
    if days not in CLASSES or (match["days"] and days == DEFAULT_DAYS):
        return None  # ``cctv-30d`` is not a root: the 30-day class has one name, ``cctv``
    return days


def segment_prefix(declared_days: int, jurisdiction: str, camera_id: str) -> str:
    """Where the camera's recorder uploads: ``{class root}/{jurisdiction}/{camera_id}/``."""
    return f"{class_root(retention_class(declared_days))}/{jurisdiction}/{camera_id}/"


def lifecycle_rules() -> list[dict[str, Any]]:
    """The bucket's lifecycle rules of each class, as ``template.yaml`` must declare them: one for
    its segments, one for their keyframes."""
    return [
        {
            "Id": f"expire-{what}-{days}d",
            "Status": "Enabled",
            "Prefix": f"{root}{class_root(days)}/",
            # Current version: N - 1 days; its noncurrent copy a day later: gone within N days.
            "ExpirationInDays": max(1, days - 1),
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        }
        for what, root in (("segments", ""), ("keyframes", f"{KEYFRAME_ROOT}/"))
        for days in CLASSES
    ]
