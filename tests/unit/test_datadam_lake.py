"""The lake against moto's server: Iceberg tables in Glue, key dedupe, evolution, time travel,
compaction. Every test gets its own bucket and Glue database (``datadam_lake``)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from gyeonggi.datadam.datasets import Column, dataset
from gyeonggi.datadam.lake import BATCH_ID, LakeError
from gyeonggi.datadam.minutes import SENSOR_MINUTES, Reading, merge, rows_builder
from localcloud.datadam import LakeEndpoint, write_records

T0 = datetime(2026, 11, 24, 0, 15, tzinfo=UTC)


def complaint(n: int, jurisdiction: str = "suwon.gg.kr", day_offset: int = 0) -> dict[str, Any]:
    return {
        "service_request_id": f"GG-20261124-{n:08X}",
        "service_code": "road-damage",
        "category": "roads",
        "jurisdiction_id": jurisdiction,
        "status": "open",
        "channel": "api",
        "requested_at": (T0 + timedelta(days=day_offset, minutes=n)).isoformat(),
    }


def test_the_first_write_creates_an_iceberg_table_in_glue(datadam_lake: LakeEndpoint) -> None:
    # Given an empty lake, When complaints of two cities are written
    result = write_records(
        datadam_lake, "complaints", [complaint(1), complaint(2, "yongin.gg.kr")], batch_id="b1"
    )
    # Then the table exists in Glue as Iceberg, with its metadata where DuckDB and Athena look
    assert (result.written, result.duplicates) == (2, 0)
    glue = datadam_lake.client("glue").get_table(
        DatabaseName=datadam_lake.database, Name="complaints"
    )["Table"]
    assert glue["Parameters"]["table_type"] == "ICEBERG"
    location = datadam_lake.metadata_location("complaints")
    assert location.startswith(f"s3://{datadam_lake.bucket}/warehouse/")
    # partitioned by day and jurisdiction: one file per partition
    lake = datadam_lake.lake()
    files = lake.data_files(dataset("complaints"))
    assert sorted(f["partition"]["jurisdiction_id"] for f in files) == [
        "suwon.gg.kr",
        "yongin.gg.kr",
    ]
    assert all("day=2026-11-24/" in f["file_path"] for f in files)
    assert lake.snapshots(dataset("complaints"))[-1]["summary"][BATCH_ID] == "b1"


def test_a_redelivered_batch_writes_nothing_twice(datadam_lake: LakeEndpoint) -> None:
    write_records(datadam_lake, "complaints", [complaint(n) for n in range(5)], batch_id="b1")
    # The same records come back, regrouped with new ones and a duplicate inside the batch.
    again = write_records(
        datadam_lake,
        "complaints",
        [complaint(3), complaint(4), complaint(5), complaint(5), complaint(0)],
        batch_id="b2",
    )
    assert (again.received, again.written, again.duplicates) == (5, 1, 4)
    nothing = write_records(datadam_lake, "complaints", [complaint(1)], batch_id="b3")
    assert nothing.written == 0 and nothing.snapshot_id is None
    rows = datadam_lake.lake().read(dataset("complaints")).to_pylist()
    assert sorted(r["service_request_id"] for r in rows) == [
        complaint(n)["service_request_id"] for n in range(6)
    ]


def test_two_writers_racing_on_one_table_both_land_once(datadam_lake: LakeEndpoint) -> None:
    # Two functions that loaded the table at the same snapshot: the second commit is stale,
    # is retried against the new snapshot, and its duplicate is left out then.
    first, second = datadam_lake.lake(), datadam_lake.lake()
    ds = dataset("complaints")
    write_records(first, "complaints", [complaint(0)])
    second.table(ds)  # loaded at the same snapshot as `first`
    write_records(first, "complaints", [complaint(1)])
    result = write_records(second, "complaints", [complaint(1), complaint(2)])
    assert (result.written, result.duplicates) == (1, 1)
    assert first.read(ds).num_rows == 3


def test_a_new_column_is_added_without_rewriting_a_file(datadam_lake: LakeEndpoint) -> None:
    lake = datadam_lake.lake()
    counts = dataset("complaint_daily_counts")
    rows = [
        {"day": "2026-11-24", "jurisdiction_id": "suwon.gg.kr", "category": "roads",
         "service_code": "road-damage", "count": 7},
    ]  # fmt: skip
    write_records(lake, "complaint_daily_counts", rows)
    files_before = {f["file_path"] for f in lake.data_files(counts)}
    # The catalogue gains a column (a new release of the code)
    evolved = dataclasses.replace(
        counts,
        columns=(*counts.columns, Column("closed", "long", "처리 완료", "Closed the same day")),
    )
    from gyeonggi.datadam.records import prepare

    new_row = prepare(
        evolved, {**rows[0], "day": "2026-11-25", "count": 3, "closed": 2}, pseudonyms=None
    )
    result = lake.write(evolved, [new_row], batch_id="evolve")
    assert result.columns_added == ("closed",)
    table = lake.read(evolved).sort_by("day").to_pylist()
    assert [(r["count"], r["closed"]) for r in table] == [(7, None), (3, 2)]
    assert files_before <= {f["file_path"] for f in lake.data_files(evolved)}
    # A column cannot change its type in place.
    retyped = dataclasses.replace(
        counts,
        columns=tuple(
            dataclasses.replace(c, type="double") if c.name == "count" else c
            for c in counts.columns
        ),
    )
    with pytest.raises(LakeError, match="count"):
        lake.table(retyped)


def test_time_travel_reads_the_table_as_it_was(datadam_lake: LakeEndpoint) -> None:
    lake = datadam_lake.lake()
    ds = dataset("complaints")
    first = write_records(lake, "complaints", [complaint(1)])
    write_records(lake, "complaints", [complaint(2), complaint(3)])
    assert lake.read(ds).num_rows == 3
    assert lake.read(ds, snapshot_id=first.snapshot_id).num_rows == 1
    snaps = lake.snapshots(ds)
    at_first = datetime.fromtimestamp(snaps[0]["timestamp_ms"] / 1000, UTC)
    assert lake.read(ds, as_of=at_first).num_rows == 1
    with pytest.raises(LakeError):
        lake.read(ds, as_of=at_first - timedelta(days=1))


def test_compaction_rewrites_small_files_in_one_snapshot(datadam_lake: LakeEndpoint) -> None:
    lake = datadam_lake.lake()
    ds = dataset("complaints")
    for n in range(4):  # four small appends to one partition, one to another
        write_records(lake, "complaints", [complaint(n)])
    write_records(lake, "complaints", [complaint(9, "yongin.gg.kr")])
    before = lake.read(ds).sort_by("service_request_id")
    result = lake.compact(ds, days=[date(2026, 11, 24)])
    assert (result.partitions, result.files_before, result.files_after) == (1, 4, 1)
    assert len(lake.data_files(ds)) == 2
    assert lake.read(ds).sort_by("service_request_id").equals(before)
    # pyiceberg's overwrite: a delete and an append snapshot, committed as one metadata change
    # (a reader sees the partition before or after).
    before_meta = datadam_lake.metadata_location("complaints")
    assert [s["operation"] for s in lake.snapshots(ds)[-2:]] == ["delete", "append"]
    assert lake.snapshots(ds)[-1]["summary"]["gyeonggi.source"] == "compaction"
    # Compacted rows still count as present: a redelivery writes nothing.
    assert write_records(lake, "complaints", [complaint(2)]).written == 0
    assert lake.compact(ds).partitions == 0  # nothing small left
    assert datadam_lake.metadata_location("complaints") == before_meta


def test_expiry_forgets_old_snapshots_and_deletes_the_files_only_they_held(
    datadam_lake: LakeEndpoint,
) -> None:
    lake = datadam_lake.lake()
    ds = dataset("complaints")
    first = write_records(lake, "complaints", [complaint(1)])
    for n in (2, 3):
        write_records(lake, "complaints", [complaint(n)])
    lake.compact(ds)  # the three small files replaced by one
    s3 = datadam_lake.client("s3")

    def data_objects() -> set[str]:
        listed = s3.list_objects_v2(Bucket=datadam_lake.bucket, Prefix="warehouse/")
        return {o["Key"] for o in listed.get("Contents", []) if o["Key"].endswith(".parquet")}

    assert len(data_objects()) == 4
    current = lake.snapshots(ds)[-1]["snapshot_id"]
    result = lake.expire_snapshots(ds, older_than=datetime.now(UTC) + timedelta(seconds=1))
    # Every snapshot but the current one is gone, and with them the replaced files.
    assert (result.snapshots, len(lake.snapshots(ds))) == (4, 1)
    assert lake.snapshots(ds)[0]["snapshot_id"] == current
    assert len(data_objects()) == 1 and result.files_deleted >= 3
    assert lake.read(ds).num_rows == 3
    with pytest.raises(LakeError):
        lake.read(ds, snapshot_id=first.snapshot_id)
    # The table reads and takes writes as before; nothing recent is expired.
    write_records(lake, "complaints", [complaint(4)])
    assert (
        lake.expire_snapshots(ds, older_than=datetime.now(UTC) - timedelta(days=1)).snapshots == 0
    )
    assert lake.read(ds).num_rows == 4


def reading(second: int, value: float, minute: int = 0, sensor: str = "co-1") -> Reading:
    ts = T0.replace(minute=minute, second=second)
    return Reading("banwol", sensor, "co", value, "ppm", ts)


def test_sensor_minutes_count_each_reading_once_however_it_is_regrouped(
    datadam_lake: LakeEndpoint,
) -> None:
    lake = datadam_lake.lake()
    first = [reading(0, 10), reading(10, 20), reading(20, 30), reading(0, 5, minute=1)]
    lake.write(SENSOR_MINUTES, rows_builder(first), batch_id="a")
    # The later readings of the minute come with two redelivered ones, in another grouping.
    second = [reading(20, 30), reading(30, 40), reading(40, 50), reading(0, 10)]
    result = lake.write(SENSOR_MINUTES, rows_builder(second), batch_id="b")
    assert result.written == 1
    assert lake.write(SENSOR_MINUTES, rows_builder(second), batch_id="c").written == 0
    rows = lake.read(
        SENSOR_MINUTES, row_filter=f"minute == '{T0.replace(minute=0).isoformat()}'"
    ).to_pylist()
    assert sum(r["samples"] for r in rows) == 5 and len(rows) == 2  # two parts of the minute
    merged = merge(rows)
    assert len(merged) == 1
    m = merged[0]
    assert (m["samples"], m["mean_ppm"], m["min_ppm"], m["max_ppm"]) == (5, 30.0, 10, 50)
    # Compaction merges the parts into one row per minute.
    lake.compact(SENSOR_MINUTES, merge=merge)
    after = lake.read(SENSOR_MINUTES).sort_by("minute").to_pylist()
    assert [(r["samples"], r["mean_ppm"]) for r in after] == [(5, 30.0), (1, 5.0)]
    assert after[0]["seconds_mask"] == sum(1 << s for s in (0, 10, 20, 30, 40))
