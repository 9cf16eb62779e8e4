"""``gyeonggi local seed-volumes``: simulated complaint counts into a running ``local up``.

Then the volumes function runs for the past days and today, so the ops dashboard has forecasts,
a surge marker and its alert to show.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gyeonggi.common.clock import KST
from gyeonggi.common.config import ConfigurationError
from gyeonggi.complaints.counts import korean_day
from gyeonggi.complaints.jurisdictions import BY_ID
from gyeonggi.complaints.services import BY_CODE, SERVICES
from gyeonggi_tools.complaints.simulated_history import Surge, generate
from localcloud.seed_volumes import seed_volumes
from localcloud.up import running_api_url, running_client, running_dynamodb, running_resource

#: Bounds of ``seed-volumes``: a few years of a few cities keep the local moto server quick.
MAX_SEED_DAYS = 1096
MAX_SEED_JURISDICTIONS = 31


def seed_volumes_running(
    state_dir: Path,
    jurisdictions: list[str],
    days: int,
    services: list[str] | None = None,
    surge_service: str = "water-sewer",
    backfill: int = 7,
) -> int:
    """Seed simulated counts into a running ``local up`` and run the volumes function once.

    The history (``simulated_history.generate``: simulated, not real counts) ends today in
    Korea, with today's count scaled to the part of the day gone by, and a surge injected
    yesterday in ``surge_service`` of the first jurisdiction, so the forecasts, the surge marker
    and its alert exist for the ops dashboard to show.
    """
    unknown = [j for j in jurisdictions if j not in BY_ID]
    unknown += [s for s in services or [] if s not in BY_CODE]
    if unknown or not jurisdictions or len(jurisdictions) > MAX_SEED_JURISDICTIONS:
        print(f"error: unknown or too many jurisdictions/services: {unknown}", file=sys.stderr)
        return 2
    if not 60 <= days <= MAX_SEED_DAYS:
        print(f"error: --days must be from 60 to {MAX_SEED_DAYS}", file=sys.stderr)
        return 2
    codes = services or [s.code for s in SERVICES]
    if surge_service not in codes:
        surge_service = codes[0]
    try:
        lambda_client = running_client(state_dir, "lambda")
        counts_table = running_resource(state_dir, "ComplaintCountsTable")
        volumes_function = running_resource(state_dir, "ComplaintVolumesFunction")
        dashboard = f"{running_api_url(state_dir)}/ops/dashboard"
        dynamodb = running_dynamodb(state_dir)
    except ConfigurationError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    today = korean_day(now)
    yesterday = today - timedelta(days=1)
    history = generate(
        today - timedelta(days=days - 1),
        today,
        jurisdictions=jurisdictions,
        services=codes,
        surges=[Surge(jurisdictions[0], surge_service, yesterday, 1, 6.0, "seed-volumes")],
    )
    # Today is still being counted: only the part of the day gone by.
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=KST)
    elapsed = (now - midnight).total_seconds() / 86400
    history.counts[:, -1] = (history.counts[:, -1] * elapsed).round().astype(history.counts.dtype)
    written = seed_volumes(dynamodb, history, table_name=counts_table)
    print(
        f"seeded {written} simulated daily counts: {len(jurisdictions)} jurisdiction(s) x "
        f"{len(codes)} service(s), {history.start} to {today}; surge injected on {yesterday} "
        f"in {jurisdictions[0]}#{surge_service}"
    )
    errored = False
    for back in range(max(0, min(backfill, days - 60)), -1, -1):
        moment = now - timedelta(days=back)
        event = {
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "time": moment.isoformat(),
            "detail": {"jurisdiction_ids": jurisdictions, "service_codes": codes},
        }
        response = lambda_client.invoke(
            FunctionName=volumes_function,
            Payload=json.dumps(event).encode(),
        )
        payload = response["Payload"].read().decode()
        errored = errored or bool(response.get("FunctionError"))
        if back == 0 or response.get("FunctionError"):
            print(f"ComplaintVolumesFunction ({korean_day(moment)}): {payload}")
    print(f"ran ComplaintVolumesFunction for {min(backfill, days - 60)} past day(s) and today")
    print(f"dashboard: {dashboard}  (token: gyeonggi auth token operator)")
    return 1 if errored else 0
