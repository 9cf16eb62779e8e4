"""Volumes in the local cloud: seeded counts -> forecasts stored -> one ComplaintSurge per day;
seeded complaints -> k-anonymous proactive notices. The data is simulated."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from gyeonggi_tools.complaints.simulated_history import Surge, generate
from localcloud.cloud import LocalCloud
from localcloud.seed_volumes import seed_volumes
from tests.conftest import load_event
from tests.integration.conftest import TopicTap


@pytest.fixture(scope="module")
def taps(cloud: LocalCloud) -> dict[str, TopicTap]:
    return {
        "events": TopicTap(cloud, "ComplaintEventsTopic", "ComplaintSurge"),
        "ops": TopicTap(cloud, "OpsAlertsTopic"),
        "notices": TopicTap(cloud, "ProactiveNoticesTopic"),
    }


def test_forecasts_are_stored_and_a_surge_is_alerted_once(
    cloud: LocalCloud, taps: dict[str, TopicTap]
) -> None:
    # Given 400 simulated days of the event's series, with a surge in Suwon's sewers yesterday
    event = load_event("complaint_volumes/scheduled_event_scoped.json")
    detail = event["detail"]
    history = generate(
        date(2023, 6, 16),
        date(2024, 7, 19),
        jurisdictions=detail["jurisdiction_ids"],
        services=detail["service_codes"],
        surges=[Surge("suwon.gg.kr", "water-sewer", date(2024, 7, 18), 1, 6.0)],
    )
    assert seed_volumes(cloud, history) > 0

    # When the schedule fires (06:00 on 19 July in Korea)
    result, errored = cloud.invoke("ComplaintVolumesFunction", event)

    # Then forecasts are stored for every series, and one surge goes to both topics
    assert not errored, result
    assert result["surges"] == ["surge:suwon.gg.kr#water-sewer:2024-07-18"]
    assert result["forecasts_written"] == 6 * 16
    items = cloud.client("dynamodb").query(
        TableName=cloud.physical_id("ComplaintForecastsTable"),
        KeyConditionExpression="series = :s AND begins_with(#k, :p)",
        ExpressionAttributeNames={"#k": "key"},
        ExpressionAttributeValues={":s": {"S": "gwacheon.gg.kr#tax"}, ":p": {"S": "forecast#"}},
    )["Items"]
    assert [i["day"]["S"] for i in items][:2] == ["2024-07-18", "2024-07-19"]
    assert len(items) == 16
    events = [p for p in taps["events"].drain() if p.body.get("type") == "ComplaintSurge"]
    ops = taps["ops"].drain()
    assert len(events) == 1 and len(ops) == 1
    body, attributes = events[0].body, events[0].attributes
    assert attributes == {"event_type": "ComplaintSurge", "department": "water-supply"}
    assert body["jurisdiction_id"] == "suwon.gg.kr" and body["date"] == "2024-07-18"

    # And when the schedule fires again, nothing new is sent
    again, errored = cloud.invoke("ComplaintVolumesFunction", event)
    assert not errored and again["surges"] == [] and again["already_alerted"] == 1
    assert taps["ops"].drain() == []
    assert not [p for p in taps["events"].drain() if p.body.get("type") == "ComplaintSurge"]


def _complaint(n: int, jid: str, band: str, gender: str, service: str) -> dict[str, Any]:
    return {
        "service_request_id": {"S": f"GG-20241015-{0xA0000 + n:08X}"},
        "jurisdiction_id": {"S": jid},
        "service_code": {"S": service},
        "description": {"S": "simulated complaint for the notices test"},
        "agency_responsible": {"S": "welfare-policy"},
        "channel": {"S": "api"},
        "status": {"S": "open"},
        "requested_datetime": {"S": "2024-10-15T01:00:00+00:00"},
        "updated_datetime": {"S": "2024-10-15T01:00:00+00:00"},
        "citizen": {
            "M": {
                "pseudonym": {"S": f"p_notices{n:05d}xxxxxxxxxxxxxxxxxxxxxx"},
                "age_band": {"S": band},
                "gender": {"S": gender},
                "consent_analytics": {"BOOL": True},
            }
        },
    }


def test_notices_are_published_only_for_segments_of_five_or_more(
    cloud: LocalCloud, taps: dict[str, TopicTap]
) -> None:
    # Given 7 senior women of Yeoncheon (published) and 3 young men of Gapyeong (too few)
    dynamodb = cloud.client("dynamodb")
    table = cloud.physical_id("ComplaintsTable")
    records = [_complaint(n, "yeoncheon.gg.kr", "70+", "female", "welfare") for n in range(7)]
    records += [_complaint(50 + n, "gapyeong.gg.kr", "20-29", "male", "noise") for n in range(3)]
    for item in records:
        dynamodb.put_item(TableName=table, Item=item)

    # When the monthly schedule fires on 1 November
    result, errored = cloud.invoke(
        "ProactiveNoticesFunction", load_event("proactive_notices/scheduled_event.json")
    )

    # Then Yeoncheon's seniors hear about heating support, and nothing names Gapyeong's three
    assert not errored, result
    notices = taps["notices"].drain()
    segments = {
        (p.attributes["jurisdiction_id"], p.attributes["age_band"], p.attributes["gender"])
        for p in notices
    }
    assert ("yeoncheon.gg.kr", "70+", "female") in segments
    assert not any(jid == "gapyeong.gg.kr" for jid, _, _ in segments)
    heating = [p.body for p in notices if p.attributes["jurisdiction_id"] == "yeoncheon.gg.kr"]
    assert any("season:heating-support" in b["reasons"] for b in heating)
    assert "p_notices" not in json.dumps([p.body for p in notices])
