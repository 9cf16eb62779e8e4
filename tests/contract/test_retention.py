"""What outlives the stack: the retention decision for every resource that holds data.

Deleting the stack, or a change that replaces a resource, deletes what CloudFormation created
unless the resource says ``DeletionPolicy: Retain`` and ``UpdateReplacePolicy: Retain``. For
each resource of a type in ``STATEFUL_TYPES`` this file records the decision and its reason,
in ``RETAINED`` or ``DELETED``; the tests fail when

- a resource of such a type has no decision (a new table, queue, bucket, key... needs a row),
  or a row names a resource the template no longer has;
- the template's policies disagree with the decision (both policies ``Retain``, or neither);
- a retained resource refers to one that is deleted (``Ref``, ``Fn::GetAtt``, ``Fn::Sub``,
  ``DependsOn``): kept data must stay readable and working without the stack, so the key that
  encrypts it, the bucket it logs to or the role it uses are retained with it (roles are not a
  stateful type; this rule is what makes the API Gateway account's role retained).

docs/ARCHITECTURE.md ("What outlives the stack") explains the decisions in prose.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from localcloud.intrinsics import references
from localcloud.template import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"

#: Resource types whose deletion loses data, or access to data, and why each counts.
STATEFUL_TYPES: dict[str, str] = {
    "AWS::KMS::Key": "what it encrypted or keyed is unreadable or unlinkable without it",
    "AWS::DynamoDB::Table": "items",
    "AWS::S3::Bucket": "objects",
    "AWS::S3::BucketPolicy": "a retained bucket may need it to keep working (log delivery)",
    "AWS::SQS::Queue": "messages not yet processed",
    "AWS::SNS::Topic": "its subscriptions, some made outside the template",
    "AWS::Logs::LogGroup": "log events",
    "AWS::Cognito::UserPool": "the users, their passwords and MFA devices",
    "AWS::Cognito::UserPoolGroup": "who belongs to which role",
    "AWS::SecretsManager::Secret": "the secret",
    "AWS::SSM::Parameter": "its value",
    "AWS::ApiGateway::Account": "an account-wide setting other stacks' stages rely on",
}

#: Retained on deletion and on replacement, and why.
RETAINED: dict[str, str] = {
    "DataKey": "encrypts every retained table, queue, bucket and log group; without it, "
    "they are unreadable",
    "PseudonymKey": "a new HMAC key gives every citizen a new pseudonym: stored complaints "
    "stop linking",
    "UserPool": "citizens' and officials' accounts, passwords and MFA cannot be recreated",
    "CitizenGroup": "membership of the retained pool's users",
    "CivilServantGroup": "who may read contact details; kept with the pool's users",
    "OperatorGroup": "membership of the retained pool's users",
    "ProvinceGroup": "who sees every jurisdiction; kept with the pool's users",
    "KioskGroup": "which machine accounts are kiosks; kept with the pool's users",
    "ApiKeysTable": "Open311 clients' keys (hashes); losing them locks every client out",
    "ComplaintsTable": "citizens' complaints: the record of the administration",
    "ContactsTable": "how to reach the citizen about a complaint",
    "ComplaintUpdatesTable": "the history of each complaint's status",
    "CasesTable": "which complaints are one case",
    "ComplaintCountsTable": "the daily counts forecasts are fitted on (not recomputable once "
    "complaints age out of the 90-day query window)",
    "SensorStateTable": "the register of sensors the heartbeat sweep looks for: emptied, a "
    "silent sensor would never be missed",
    "SafetyComplexesTable": "the register of complexes: emptied, a complex gone dark would never "
    "be missed",
    "IncidentsTable": "safety incidents and their timelines: who was paged and who answered",
    "CctvBucket": "analyses are evidence (segments expire by lifecycle)",
    "CctvAccessLogsBucket": "who accessed the video: two years of access records",
    "CctvAccessLogsBucketPolicy": "without it the retained CctvBucket could not deliver its logs",
    "ApiAccessLogs": "who called the API: two years of access records",
    "ApiGatewayAccount": "the account's logging role setting, shared with other stacks' stages",
    "ApiGatewayCloudWatchRole": "the retained account setting names it; deleted, every stage in "
    "the account stops logging",
    "IntakeQueue": "complaints accepted (the citizen holds a receipt) and not yet stored",
    "IntakeDeadLetterQueue": "complaints that failed intake, waiting for a person",
    "IntakeFailureQueue": "complaints whose workflow failed, with input and error",
    "SafetyEvidenceQueue": "alarms and detections not yet turned into an incident",
    "SafetyEvidenceDeadLetterQueue": "safety evidence that could not open an incident",
    "IncidentFailureQueue": "incidents whose alert workflow failed (`gyeonggi safety redrive`)",
    "TelemetryRuleErrorQueue": "readings IoT Core could not hand to the alarm path, payload "
    "included: the only copy of readings nobody evaluated",
    # ---- cctv: registry
    "CctvCamerasTable": "the registry of the province's cameras, with what operators set on "
    "them (masks, minimum fire size, the complex they watch); an import rebuilds only the "
    "public data's part",
    "CctvHealthTable": "each camera's last segment and tampered view: emptied, a camera that "
    "went silent would never be missed (as the sensor register)",
    "CctvAuditTable": "who viewed which camera's video and why: the access records the Personal "
    "Information Protection Act asks of CCTV operators, kept three years (TTL)",
    # wallet: issuer
    "WalletSigningKey": "its public key must stay published until the last credential it "
    "signed has expired; deleted, every credential issued stops verifying",
    "WalletEnrolmentsTable": "who each credential was issued to, as an official checked it, "
    "and where each credential's status entry is: without it nothing can be revoked",
    "WalletStatusListsTable": "the status of every credential issued, and which entries are "
    "taken: emptied, revoked credentials would verify again and entries would be reused",
    # ---- Data Dam: query
    "AnalystGroup": "who may query the Data Dam; kept with the pool's users",
    # ---- wallet: verifier
    "WalletVerifierKey": "the trust framework's CA certified this key: a new one needs a new "
    "certificate (made by hand, out of band) and gives wallets a new client id",
    # ---- Data Dam: lake
    "DataDamBucket": "the Data Dam's tables (Iceberg data and metadata) and the files outside "
    "systems landed: the province's collected records, not recomputable once the sources age "
    "out",
    "DataDamDatabase": "the Glue tables Athena reads the retained bucket's Iceberg tables "
    "through (each names its current metadata file)",
    "DataDamImportQueue": "the retained bucket notifies it of every landed file: deleted, the "
    "bucket's notification would point at nothing; and the files not yet imported",
    "DataDamImportDeadLetterQueue": "landed files whose import failed three times, waiting for "
    "a person; the retained import queue redrives to it",
    "DataDamImportQueuePolicy": "lets the retained bucket notify the retained import queue",
    "DataDamCameraQueue": "the retained CCTV bucket notifies it of every analysis result: "
    "deleted, the bucket's notification would point at nothing",
    "DataDamCameraDeadLetterQueue": "analysis results that failed to land three times; the "
    "retained camera queue redrives to it",
    "DataDamCameraQueuePolicy": "lets the retained CCTV bucket notify the retained camera queue",
    # ---- petition forms: issuance
    "FormSubmissionsTable": "submitted petition forms and the civil servants' decisions: the "
    "record of what the province was asked and what it answered (items expire by TTL five "
    "years after a decision, thirty days after an identity failure; waiting ones never)",
    "FormsBucket": "the completed forms (PDF and JSON) civil servants decide on; its lifecycle "
    "expires them (the official copies after five years, the citizen's after 90 days)",
    "FormsBucketPolicy": "TLS-only access and KMS-encrypted writes of the retained bucket: "
    "deleted, the bucket would take plain HTTP",
    "FormsAccessLogsBucket": "who read which form (presigned links included): two years of "
    "access records",
    "FormsAccessLogsBucketPolicy": "without it the retained FormsBucket could not deliver logs",
    "FormIssuanceFailureQueue": "submitted forms whose workflow failed, waiting for `gyeonggi "
    "forms redrive`: never a lost form",
}

#: Deleted with the stack, and why that loses nothing that matters.
DELETED: dict[str, str] = {
    "ComplaintForecastsTable": "recomputed from the counts every hour",
    "FormSessionsTable": "form dialogues in progress (resident registration numbers among them) "
    "live an hour at most; a citizen starts again, and keeping them past the stack would keep "
    "personal data nobody needs",
    "ComplaintReceiptsTable": "receipts live an hour and copy what the retained intake queue "
    "holds until the complaint is stored in the retained complaints table",
    "ComplaintEventsTopic": "holds no message; its subscriptions are all in the template",
    "SafetyAlertsTopic": "holds no message; subscriptions made outside the stack go with it "
    "and must be made again on the new one (retaining it would keep them on a topic nothing "
    "publishes to)",
    "OpsAlertsTopic": "as SafetyAlertsTopic",
    "ProactiveNoticesTopic": "as SafetyAlertsTopic",
    "IncidentAlertsTopic": "as SafetyAlertsTopic; `gyeonggi safety subscribe` remakes them",
    "TriageQueue": "complaints on it are already stored; triage can be run again from the table",
    "TriageDeadLetterQueue": "as TriageQueue",
    "TriageFailureQueue": "as TriageQueue",
    "VolumeJobsDeadLetterQueue": "failed scheduled runs; the next hour's run redoes the work",
    "HeartbeatSweepDeadLetterQueue": "failed sweeps; the next minute's sweep redoes the work",
    "TelemetryBatchQueue": "readings for pre-alarms, worthless after minutes",
    "TelemetryBatchDeadLetterQueue": "as TelemetryBatchQueue",
    "TelemetryDeadLetterQueue": "rejected readings (a device to fix, not an alarm to raise) and "
    "readings whose state write failed after their evidence went out",
    "CctvHealthSweepDeadLetterQueue": "failed camera sweeps; the next minute's sweep redoes "
    "the work",
    "CctvAnalysisDeadLetterQueue": "upload events; the segments stay in the retained bucket and "
    "can be analysed again",
    "ComplaintIntakeLogs": "execution errors only (no execution data); its fixed name would "
    "collide with the next deployment of the stack",
    "ComplaintTriageLogs": "as ComplaintIntakeLogs",
    "SafetyAlertLogs": "as ComplaintIntakeLogs",
    # wallet: issuer
    "WalletGrantsTable": "pre-authorized codes, access tokens and nonces live minutes; a new "
    "stack's wallet users ask for a new offer",
    # ---- wallet: verifier
    "PresentationRequestsTable": "requests live ten minutes and results an hour, then TTL "
    "deletes them: personal claims meant to expire are not kept past the stack either",
    "IdentityCheckExampleLogs": "as ComplaintIntakeLogs",
    # ---- Data Dam: query
    "DatadamResultsBucket": "query results expire in a week and are made again by running "
    "the query; the lake they are computed from is retained",
    # ---- Data Dam: lake
    "DataDamEventsQueue": "events not yet landed; the systems' own stores keep the records",
    "DataDamEventsDeadLetterQueue": "as DataDamEventsQueue",
    "DataDamTelemetryQueue": "readings for the lake's minute aggregates, as TelemetryBatchQueue",
    "DataDamTelemetryDeadLetterQueue": "as DataDamTelemetryQueue",
    "DataDamDailyDeadLetterQueue": "failed daily runs; the next run lands the same days again",
    "DataDamStreamsDeadLetterQueue": "positions of stream batches that failed to land; the "
    "systems' own tables keep the records",
    # ---- petition forms: issuance
    "FormIssuanceLogs": "as ComplaintIntakeLogs",
}


@cache
def _resources() -> dict[str, dict[str, Any]]:
    resources: dict[str, dict[str, Any]] = load_template(TEMPLATE)["Resources"]
    return resources


def _retained(spec: dict[str, Any]) -> tuple[bool, bool]:
    return (
        spec.get("DeletionPolicy") == "Retain",
        spec.get("UpdateReplacePolicy") == "Retain",
    )


def _depends_on(spec: dict[str, Any]) -> set[str]:
    depends = spec.get("DependsOn", [])
    return {depends} if isinstance(depends, str) else set(depends)


def test_every_stateful_resource_has_a_retention_decision() -> None:
    stateful = {
        logical_id
        for logical_id, spec in _resources().items()
        if spec.get("Type") in STATEFUL_TYPES
    }
    decided = set(RETAINED) | set(DELETED)
    problems = [
        f"{name} ({_resources()[name]['Type']}): no decision in RETAINED or DELETED"
        for name in sorted(stateful - decided)
    ]
    problems += [
        f"{name}: decided here but not a resource of the template"
        for name in sorted(decided - set(_resources()))
    ]
    problems += [
        f"{name}: both RETAINED and DELETED" for name in sorted(set(RETAINED) & set(DELETED))
    ]
    assert not problems, "\n".join(problems)


def test_the_template_retains_exactly_what_was_decided() -> None:
    problems: list[str] = []
    for name, spec in _resources().items():
        deletion, replacement = _retained(spec)
        if name in RETAINED and not (deletion and replacement):
            problems.append(f"{name}: needs DeletionPolicy: Retain and UpdateReplacePolicy: Retain")
        elif name not in RETAINED and (deletion or replacement):
            problems.append(f"{name}: retained in the template but not in RETAINED (say why)")
    assert not problems, "\n".join(problems)


def test_a_retained_resource_refers_only_to_retained_resources() -> None:
    problems = []
    for name in sorted(RETAINED):
        spec = _resources().get(name)
        if spec is None:
            continue  # reported by the first test
        needs = (references(spec.get("Properties", {})) | _depends_on(spec)) & set(_resources())
        problems += [
            f"{name} needs {other}, which is deleted with the stack"
            for other in sorted(needs - set(RETAINED))
        ]
    assert not problems, "\n".join(problems)


def test_the_data_key_encrypts_retained_tables_and_is_retained() -> None:
    """The case the issue found: retained tables encrypted by a key that was not retained."""
    encrypted_by_data_key = sorted(
        name
        for name, spec in _resources().items()
        if spec.get("Type") == "AWS::DynamoDB::Table"
        and "DataKey" in references((spec.get("Properties") or {}).get("SSESpecification", {}))
    )
    assert {"ComplaintsTable", "ContactsTable", "ApiKeysTable"} <= set(encrypted_by_data_key)
    assert _retained(_resources()["DataKey"]) == (True, True)
    assert _retained(_resources()["UserPool"]) == (True, True)
