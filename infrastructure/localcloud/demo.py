"""``gyeonggi local demo``: deploy the stack, drive the complaint chain over HTTP, report.

Every step prints what happened; the demo exits 1 as soon as something is not as expected,
so it doubles as a smoke test of a fresh machine.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from localcloud.cloud import LocalCloud


class DemoFailed(Exception):
    pass


def _http(
    method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _expect(what: str, condition: bool, detail: Any = "") -> None:
    mark = "ok " if condition else "FAIL"
    print(f"  [{mark}] {what}" + (f": {detail}" if detail != "" else ""))
    if not condition:
        raise DemoFailed(what)


def _show(title: str, value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False, indent=2, default=str)
    print(f"  {title}:\n" + "\n".join("      " + line for line in text.splitlines()))


def run_demo(root: Path, state_dir: Path, *, time_scale: float = 0.01) -> int:
    """Run the demo; returns the process exit status."""
    logging.basicConfig(level=logging.WARNING)
    # The demo provokes failures on purpose (step 8); its own lines say what happened.
    logging.getLogger("localcloud").setLevel(logging.ERROR)
    started = time.perf_counter()
    try:
        with LocalCloud(root, state_dir=state_dir, time_scale=time_scale, api_port=0) as cloud:
            print(cloud.banner())
            print(
                f"\nUp in {time.perf_counter() - started:.2f} s. Driving the complaint chain "
                f"through {cloud.api.url}\n"
            )
            _drive(cloud)
    except DemoFailed as exc:
        print(f"\nDemo FAILED at: {exc}")
        return 1
    print(f"\nDemo passed in {time.perf_counter() - started:.2f} s.")
    return 0


def _tap(cloud: LocalCloud) -> str:
    """A queue subscribed to the complaint events topic, to show what was published."""
    sqs, sns = cloud.client("sqs"), cloud.client("sns")
    url = sqs.create_queue(QueueName="demo-complaint-events-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=cloud.physical_id("ComplaintEventsTopic"),
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "false"},
    )
    return str(url)


def _drive(cloud: LocalCloud) -> None:
    api = cloud.api.url
    tap = _tap(cloud)
    api_key = cloud.issue_api_key("demo client")

    print("1. A citizen files a complaint through Open311 (form fields, API key)")
    form = {
        "api_key": api_key,
        "jurisdiction_id": "suwon.gg.kr",
        "service_code": "road-damage",
        "lat": "37.2636",
        "long": "127.0286",
        "description": "팔달로 교차로 앞에 큰 포트홀이 있어요. A deep pothole by the crossing.",
        "email": "citizen@example.kr",
        "first_name": "Minji",
        "phone": "010-1234-5678",
    }
    status, body = _http(
        "POST",
        f"{api}/open311/v2/requests.json",
        body=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _expect("201 Created with the request id", status == 201, body)
    request_id = body[0]["service_request_id"]

    print("2. The intake queue starts the complaint-intake state machine")
    execution = cloud.wait_for_execution("ComplaintIntakeStateMachine", request_id, timeout=30)
    _expect(
        "execution ended SUCCEEDED", execution["status"] == "SUCCEEDED", execution["executionArn"]
    )

    print("3. Triage classifies it, finds its case and routes it to the department")
    triage = cloud.wait_for_execution("ComplaintTriageStateMachine", request_id, timeout=30)
    _expect("triage ended SUCCEEDED", triage["status"] == "SUCCEEDED", triage["executionArn"])
    routed = cloud.client("dynamodb").get_item(
        TableName=cloud.physical_id("ComplaintsTable"),
        Key={"service_request_id": {"S": request_id}},
    )["Item"]
    _expect(
        "routed to road management",
        routed["department"]["S"] == "road-management",
        f"urgency {routed['urgency']['S']}, case {routed['case_id']['S']}",
    )

    print("4. The stored record has no personal data; the restricted store has the contact")
    item = cloud.client("dynamodb").get_item(
        TableName=cloud.physical_id("ComplaintsTable"),
        Key={"service_request_id": {"S": request_id}},
    )["Item"]
    stored = json.dumps(item, ensure_ascii=False)
    _expect(
        "no e-mail, phone or name in the complaint record",
        not any(v in stored for v in ("citizen@example.kr", "010-1234", "Minji")),
    )
    _show("complaint record (DynamoDB)", {k: next(iter(v.values())) for k, v in item.items()})
    contact = (
        cloud.client("dynamodb")
        .get_item(
            TableName=cloud.physical_id("ContactsTable"),
            Key={"service_request_id": {"S": request_id}},
        )
        .get("Item")
    )
    _expect("contact details kept in the restricted store", bool(contact))

    print("5. ComplaintReceived was published to SNS")
    messages = cloud.wait_for(
        lambda: (
            cloud.client("sqs").receive_message(QueueUrl=tap, WaitTimeSeconds=1).get("Messages")
        ),
        timeout=10,
        what="the ComplaintReceived event",
    )
    envelope = json.loads(messages[0]["Body"])
    _expect(
        "event_type ComplaintReceived",
        envelope["MessageAttributes"]["event_type"]["Value"] == "ComplaintReceived",
    )
    _show("published event", json.loads(envelope["Message"]))

    print("6. Anyone can follow the request through Open311")
    status, body = _http("GET", f"{api}/open311/v2/requests/{request_id}.json")
    _expect("200 with status open", status == 200 and body[0]["status"] == "open", body[0])

    print("7. A signed-in citizen uses the native JSON API; a civil servant reads it")
    citizen = cloud.mint_token("citizen", subject="citizen-0001")
    status, body = _http(
        "POST",
        f"{api}/complaints",
        body=json.dumps(
            {
                "jurisdiction_id": "goyang.gg.kr",
                "service_code": "noise",
                "address_string": "고양시 일산동구 중앙로 1036",
                "description": "Construction noise every night after 22:00",
                "citizen": {"birth_year": 1958, "gender": "female", "consent_analytics": True},
            }
        ).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {citizen}"},
    )
    _expect("201 Created", status == 201, body)
    second = body["service_request_id"]
    cloud.wait_for_execution("ComplaintIntakeStateMachine", second, timeout=30)
    officer = cloud.mint_token("civil-servant", subject="officer-7", jurisdictions=["goyang.gg.kr"])
    status, body = _http(
        "GET", f"{api}/complaints/{second}", headers={"Authorization": f"Bearer {officer}"}
    )
    _expect(
        "civil servant sees complaint and contact",
        status == 200 and body["contact"] and body["complaint"]["citizen"]["age_band"] == "60-69",
        body["complaint"]["citizen"],
    )

    print("8. Bad requests are refused with the reason, never a 500; readers see only their own")
    bad = dict(form, lat="91")
    status, body = _http(
        "POST",
        f"{api}/open311/v2/requests.json",
        body=urllib.parse.urlencode(bad).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _expect("400 naming the field", status == 400 and "lat" in body[0]["description"], body)
    status, body = _http("GET", f"{api}/complaints/{second}")
    _expect("401 without a token", status == 401, body)
    status, body = _http(
        "GET", f"{api}/complaints/{second}", headers={"Authorization": f"Bearer {citizen}"}
    )
    _expect("its owner reads it", status == 200 and body["contact"]["account_id"], body)
    for who, token, expected in (
        ("another citizen gets 404", cloud.mint_token("citizen", subject="citizen-0002"), 404),
        (
            "another city's officer gets 403",
            cloud.mint_token("civil-servant", jurisdictions=["suwon.gg.kr"]),
            403,
        ),
        ("the wrong role gets 403", cloud.mint_token("operator", province=True), 403),
    ):
        status, body = _http(
            "GET", f"{api}/complaints/{second}", headers={"Authorization": f"Bearer {token}"}
        )
        _expect(who, status == expected, body)

    print("9. A message delivered twice creates one complaint; a malformed one is dead-lettered")
    sqs = cloud.client("sqs")
    intake_url = cloud.physical_id("IntakeQueue")
    duplicate = {
        "service_request_id": "GG-20261124-00D0D0D0",
        "submitted_at": "2026-11-24T09:00:00Z",
        "channel": "open311",
        "type": "ComplaintSubmitted",
        "version": 1,
        "submission": {
            "jurisdiction_id": "paju.gg.kr",
            "service_code": "streetlight",
            "lat": 37.76,
            "long": 126.78,
            "description": "Streetlight out",
        },
    }
    for _ in range(2):
        sqs.send_message(QueueUrl=intake_url, MessageBody=json.dumps(duplicate))
    sqs.send_message(QueueUrl=intake_url, MessageBody='{"service_request_id": 42')
    cloud.wait_for_execution("ComplaintIntakeStateMachine", str(duplicate["service_request_id"]))
    dlq = cloud.physical_id("IntakeDeadLetterQueue")
    cloud.wait_for(
        lambda: cloud.queue_depth("IntakeDeadLetterQueue") == 1,
        timeout=30,
        what="the malformed message in the dead-letter queue",
    )
    runs = [
        e
        for e in cloud.executions("ComplaintIntakeStateMachine")
        if e["name"] == duplicate["service_request_id"]
    ]
    _expect("one execution for the twice-delivered message", len(runs) == 1)
    dead = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"])["Messages"][0]
    _expect(
        "malformed message in the dead-letter queue after maxReceiveCount (3)",
        dead["Body"].startswith('{"service_request_id": 42'),
        f"ApproximateReceiveCount={dead['Attributes']['ApproximateReceiveCount']}",
    )
