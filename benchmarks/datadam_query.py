"""Data Dam queries on DuckDB: a year of simulated complaints and a day of sensor minutes.

The lake is the real layout (``gyeonggi.datadam.lake``: Iceberg v2, zstd Parquet, partitioned
by day and jurisdiction) in moto's S3 and Glue served on 127.0.0.1; the tables are filled with
one pyiceberg append each (simulated rows, seeded). Each question is run through the DuckDB
engine's own connection (extensions from their PyPI packages, the warehouse only) with and
without a filter DuckDB can prune partitions by, and reported as wall time (median of
``--runs``, a fresh connection each as the engine makes one per query), data files opened
(DuckDB's plan: "Total Files Read") and bytes fetched from S3 (DuckDB's HTTP log: the
``Content-Length`` of its GETs). "No pruning" is the same SQL with DuckDB's filter pushdown
off: every data file is read and filtered afterwards. moto's S3 on loopback is faster than S3
over a network and slower than a local disk: the *ratios* are the finding, the absolute times
are this machine's.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from benchmarks import Options, median, ms, table

YEAR_START = date(2025, 12, 1)
DAYS = 365
COMPLAINTS_PER_DAY = 2_000
SENSOR_DAY = date(2026, 11, 30)
#: 12 complexes x 40 sensors x 2 gases x 1,440 minutes = 1,382,400 rows.
COMPLEXES = 12
SENSORS = 40
GASES = ("co", "h2s")


def _complaints(ds: Any, arrow_schema: Any) -> Any:
    import numpy as np
    import pyarrow as pa

    from gyeonggi.complaints.jurisdictions import JURISDICTIONS
    from gyeonggi.complaints.services import SERVICES

    rng = np.random.default_rng(20261207)
    n = DAYS * COMPLAINTS_PER_DAY
    day_index = np.repeat(np.arange(DAYS), COMPLAINTS_PER_DAY)
    # Big cities get more: weights by a rough population rank.
    weights = np.linspace(3.0, 0.3, len(JURISDICTIONS))
    jurisdictions = rng.choice([j.id for j in JURISDICTIONS], size=n, p=weights / weights.sum())
    services = rng.choice([s.code for s in SERVICES], size=n)
    group = {s.code: s.group for s in SERVICES}
    seconds = rng.integers(0, 86_400, size=n)
    start = datetime(YEAR_START.year, YEAR_START.month, YEAR_START.day, tzinfo=UTC)
    requested = [
        start + timedelta(days=int(d), seconds=int(s))
        for d, s in zip(day_index, seconds, strict=True)
    ]
    columns: dict[str, Any] = {
        "service_request_id": [f"GG-{i:09d}" for i in range(n)],
        "service_code": services,
        "category": [group[c] for c in services],
        "agency_responsible": None,
        "jurisdiction_id": jurisdictions,
        "status": ["open"] * n,
        "channel": rng.choice(["open311", "api"], size=n),
        "requested_at": requested,
        "day": [YEAR_START + timedelta(days=int(d)) for d in day_index],
        "citizen_pseudonym": [f"p{int(x):07d}" for x in rng.integers(0, 400_000, size=n)],
        "age_band": rng.choice(["20-29", "30-39", "40-49", "50-59", "60-69", "70+"], size=n),
        "gender": rng.choice(["female", "male"], size=n),
        "consent_analytics": rng.random(n) < 0.7,
    }
    arrays = {}
    for field in arrow_schema:
        value = columns.get(field.name)
        if value is None:
            arrays[field.name] = pa.nulls(n, type=field.type)
        else:
            arrays[field.name] = pa.array(value, type=field.type)
    return pa.Table.from_pydict(arrays, schema=arrow_schema)


def _sensor_minutes(arrow_schema: Any) -> Any:
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(7)
    places = ["ansan.gg.kr", "siheung.gg.kr", "pyeongtaek.gg.kr", "hwaseong.gg.kr"]
    rows_per_sensor = 1440 * len(GASES)
    n = COMPLEXES * SENSORS * rows_per_sensor
    sensor = np.repeat(np.arange(COMPLEXES * SENSORS), rows_per_sensor)
    complex_index = sensor // SENSORS
    minute_index = np.tile(np.repeat(np.arange(1440), len(GASES)), COMPLEXES * SENSORS)
    start = datetime(SENSOR_DAY.year, SENSOR_DAY.month, SENSOR_DAY.day, tzinfo=UTC)
    mean = rng.gamma(2.0, 2.0, size=n)
    columns: dict[str, Any] = {
        "minute": [start + timedelta(minutes=int(m)) for m in minute_index],
        "day": [SENSOR_DAY] * n,
        "complex_id": [f"complex-{int(c):02d}" for c in complex_index],
        "jurisdiction_id": [places[int(c) % len(places)] for c in complex_index],
        "sensor_id": [f"s-{int(s):04d}" for s in sensor],
        "gas": np.tile(np.array(GASES), n // len(GASES)),
        "mean_ppm": mean,
        "max_ppm": mean * 1.4,
        "samples": np.full(n, 60),
        "seconds_mask": np.full(n, (1 << 60) - 1),
    }
    arrays = {}
    for field in arrow_schema:
        value = columns.get(field.name)
        arrays[field.name] = (
            pa.nulls(n, type=field.type) if value is None else pa.array(value, type=field.type)
        )
    return pa.Table.from_pydict(arrays, schema=arrow_schema)


#: (question, dataset, SQL, prunable): a prunable one is also run with DuckDB's filter pushdown
#: off, which is what reading the table without partition pruning costs.
QUESTIONS: list[tuple[str, str, str, bool]] = [
    (
        "complaints per city and group, the whole year",
        "complaints",
        "SELECT jurisdiction_id, category, count(*) AS n FROM gyeonggi_datadam.complaints "
        "GROUP BY 1, 2",
        False,
    ),
    (
        "one city, one week",
        "complaints",
        "SELECT category, count(*) AS n FROM gyeonggi_datadam.complaints "
        "WHERE day BETWEEN DATE '2026-03-02' AND DATE '2026-03-08' "
        "AND jurisdiction_id = 'suwon.gg.kr' GROUP BY 1",
        True,
    ),
    (
        "one month, every city",
        "complaints",
        "SELECT jurisdiction_id, count(*) AS n FROM gyeonggi_datadam.complaints "
        "WHERE day BETWEEN DATE '2026-03-01' AND DATE '2026-03-31' GROUP BY 1",
        True,
    ),
    (
        "sensor minutes: hourly peak per complex and gas, the whole day",
        "sensor_minutes",
        "SELECT complex_id, gas, date_trunc('hour', minute) AS hour, max(max_ppm) AS peak "
        "FROM gyeonggi_datadam.sensor_minutes GROUP BY 1, 2, 3",
        False,
    ),
    (
        "sensor minutes: one jurisdiction's complexes",
        "sensor_minutes",
        "SELECT complex_id, gas, max(max_ppm) AS peak FROM gyeonggi_datadam.sensor_minutes "
        "WHERE day = DATE '2026-11-30' AND jurisdiction_id = 'ansan.gg.kr' GROUP BY 1, 2",
        True,
    ),
]
_LOG_HTTP = "CALL enable_logging('HTTP')"
_NO_PRUNING = "SET disabled_optimizers = 'filter_pushdown'"
_BYTES = (
    "SELECT coalesce(sum(CAST(response.headers['Content-Length'] AS BIGINT)), 0) "
    "FROM duckdb_logs_parsed('HTTP') WHERE request.type = 'GET'"
)


def _files_read(plan: str) -> int:
    # DuckDB's EXPLAIN ANALYZE names the data files the Iceberg scan opened; a long figure is
    # wrapped inside the plan's box, so the box and the line breaks go first.
    flat = re.sub(r"[\u2500-\u257f\s]+", " ", plan)
    found = re.search(r"Total Files Read: (\d[\d,]*)", flat)
    return int(found.group(1).replace(",", "")) if found else -1


def _measure(
    engine: Any, locations: dict[str, str], sql: str, runs: int, *, prune: bool
) -> dict[str, Any]:
    """A fresh connection per run, as the engine makes one per query: the query's time, the
    bytes its GETs brought (HTTP log), the files its scan opened (the plan of the first run,
    an EXPLAIN ANALYZE, which runs the query too)."""
    from gyeonggi.datadam.datasets import NAMESPACE

    settings = [_LOG_HTTP] if prune else [_LOG_HTTP, _NO_PRUNING]
    times, transferred = [], []
    files = -1
    for run in range(runs):
        con = engine.connect(locations, NAMESPACE, before_lock=settings)
        try:
            started = time.perf_counter()
            if run == 0:
                files = _files_read(con.execute("EXPLAIN ANALYZE " + sql).fetchall()[0][1])
            else:
                con.execute(sql).fetchall()
            times.append(time.perf_counter() - started)
            transferred.append(int(con.execute(_BYTES).fetchone()[0]))
        finally:
            con.close()
    return {"time": median(times), "files": files, "bytes": median(transferred)}


def run(options: Options) -> str:
    from gyeonggi.datadam.datasets import CATALOGUE
    from gyeonggi.datadam.duckdb_engine import DuckDbEngine
    from gyeonggi.datadam.tables import TableLocator
    from localcloud.datadam import REGION, lake_server

    runs = max(3, options.runs)
    with lake_server() as where:
        lake = where.lake()
        built = []
        summaries: dict[str, dict[str, str]] = {}
        for dataset_id, make in (
            ("complaints", lambda s: _complaints(CATALOGUE["complaints"], s)),
            ("sensor_minutes", _sensor_minutes),
        ):
            ds = CATALOGUE[dataset_id]
            iceberg = lake.table(ds)
            started = time.perf_counter()
            data = make(iceberg.schema().as_arrow())
            generated = time.perf_counter() - started
            started = time.perf_counter()
            iceberg.append(data)
            written = time.perf_counter() - started
            snapshot = iceberg.refresh().current_snapshot()
            assert snapshot is not None and snapshot.summary is not None
            summary: dict[str, str] = dict(snapshot.summary.additional_properties)
            summaries[dataset_id] = summary
            built.append(
                (
                    dataset_id,
                    f"{data.num_rows:,}",
                    summary["total-data-files"],
                    f"{int(summary['total-files-size']) / 1e6:.1f} MB",
                    ms(generated),
                    ms(written),
                )
            )
        locator = TableLocator(where.database, glue=where.client("glue"), s3=where.client("s3"))
        engine = DuckDbEngine(
            locator,
            where.bucket,
            s3_endpoint=where.endpoint,
            s3=where.client("s3"),
            credentials=("testing", "testing", None),
            region=REGION,
        )
        locations = {d: locator.metadata_location(d) for d in ("complaints", "sensor_minutes")}
        measured = []
        for title, dataset_id, sql, prunable in QUESTIONS:
            total = int(summaries[dataset_id]["total-data-files"])
            for prune in (True, False) if prunable else (True,):
                # A scan of every file is a minute over loopback S3: measured once.
                full = not prune or not prunable or "every city" in title
                count = 1 if full and dataset_id == "complaints" else runs
                m = _measure(engine, {dataset_id: locations[dataset_id]}, sql, count, prune=prune)
                how = "" if not prunable else (" (pruned)" if prune else " (no pruning)")
                measured.append(
                    (
                        title + how,
                        ms(m["time"]) + ("" if count > 1 else " (1 run)"),
                        f"{m['files']:,} of {total:,}",
                        f"{m['bytes'] / 1e6:.2f} MB",
                    )
                )
    lake_table = table(
        ["table", "rows", "data files", "size", "generate", "append (one commit)"],
        built,
        right=[1, 2, 3, 4, 5],
    )
    query_table = table(
        ["question", f"time (median of {runs})", "files read", "bytes fetched"],
        measured,
        right=[1, 2, 3],
    )
    return (
        "## datadam_query\n\n"
        f"A year ({DAYS} days from {YEAR_START}) of {COMPLAINTS_PER_DAY:,} simulated complaints "
        f"a day over the 31 cities and counties, and a day of sensor minutes ({COMPLEXES} "
        f"complexes x {SENSORS} sensors x {len(GASES)} gases x 1,440 minutes), in moto's S3 "
        "and Glue on 127.0.0.1, read by DuckDB 1.4.4 (iceberg_scan).\n\n"
        + lake_table
        + "\n\n"
        + query_table
        + "\n"
    )
