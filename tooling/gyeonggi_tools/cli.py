"""The ``gyeonggi`` command.

    gyeonggi local up        the whole stack on this machine until Ctrl-C
    gyeonggi local demo      deploy, drive the complaint chain over HTTP, report, exit
    gyeonggi auth token R    a bearer token from the local issuer for role(s) R, scoped with
                             --jurisdiction ID, --complex ID or --province
    gyeonggi auth api-key O  an Open311 API key for client O (against a running `local up`)
    gyeonggi local invoke F  invoke function F (logical id) of a running `local up`
    gyeonggi complaints train | classify | forecast
    gyeonggi forms converse   petition-form dialogues offline: JSON lines in and out
    gyeonggi forms train | generate | evaluate   the forms models and their measures
    gyeonggi forms redrive    restart submitted forms whose issuance workflow failed
    gyeonggi forms render F   a sample of form F as the PDF the civil servant gets
    gyeonggi devices simulate  simulated gas and fire sensors publishing MQTT telemetry
    gyeonggi devices register NAME  a complex's sensor gateway in AWS IoT Core
    gyeonggi safety analyze-video FILE  fire and smoke in a CCTV segment, as JSON
    gyeonggi safety evaluate-video  the detector on the held-out evaluation clips, as tables
    gyeonggi safety train-fire-stage  the fire detector's second stage, from the tuning clips
    gyeonggi safety alarms check | put | show  a complex's alarm levels
    gyeonggi safety subscribe PROTOCOL ENDPOINT  incident alerts for a complex, severity, level
    gyeonggi safety redrive  page again about incidents whose alert workflow failed
    gyeonggi wallet enrol ...  enrol a person (civil servant); print their credential offer
    gyeonggi wallet revoke | suspend | reinstate ID  an enrolment's credentials
    gyeonggi wallet accept | list | present  a holder's wallet on this machine (OpenID4VCI, VP)
    gyeonggi wallet request | result  a presentation request on a running `local up`
    gyeonggi cctv import FILE.csv | export  the camera registry in the public CCTV data format
    gyeonggi datadam import DATASET FILE  land an outside system's CSV / JSON Lines in the Data Dam
    gyeonggi datadam query "SQL" | datasets  the Data Dam over the stack's API (local up or --url)

Subcommands import what they need when they run, so ``--help`` starts fast and a command
only needs the dependencies it uses (``devices simulate`` paho, ``complaints train``
scikit-learn).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path


def _state_dir(value: str | None) -> Path:
    return Path(value or os.environ.get("GYEONGGI_STATE_DIR", ".local"))


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``gyeonggi``, without running anything."""
    parser = argparse.ArgumentParser(prog="gyeonggi", description=__doc__.split("\n\n")[0])
    parser.add_argument("--state-dir", help="local cloud state (default: .local)")
    groups = parser.add_subparsers(dest="group", required=True)

    local = groups.add_parser("local", help="the embedded local cloud")
    local_cmds = local.add_subparsers(dest="command", required=True)
    up = local_cmds.add_parser("up", help="serve the stack until interrupted")
    up.add_argument("--api-port", type=int, default=8000)
    up.add_argument("--mqtt-port", type=int, default=1883)
    up.add_argument("--moto-port", type=int, default=5000)
    up.add_argument(
        "--time-scale",
        type=float,
        default=0.01,
        help="factor for workflow waits and retries (1 = real time)",
    )
    demo = local_cmds.add_parser("demo", help="drive the complaint chain once and report")
    demo.add_argument("--time-scale", type=float, default=0.01)
    invoke = local_cmds.add_parser("invoke", help="invoke a function of a running `local up`")
    invoke.add_argument("function", help="the function's logical id in template.yaml")
    invoke.add_argument("--event", type=Path, help="a JSON event file (default: {})")
    seed = local_cmds.add_parser(
        "seed-volumes",
        help="seed simulated complaint counts into a running `local up` and forecast them",
    )
    seed.add_argument(
        "--jurisdictions",
        default="suwon.gg.kr,ansan.gg.kr",
        help="comma-separated jurisdiction ids (default: suwon.gg.kr,ansan.gg.kr)",
    )
    seed.add_argument("--services", help="comma-separated service codes (default: all 15)")
    seed.add_argument("--days", type=int, default=400, help="days of history (60 to 1096)")
    seed.add_argument(
        "--backfill", type=int, default=7, help="past mornings to forecast too (~5 s each)"
    )

    complaints = groups.add_parser("complaints", help="classification and forecasting")
    complaint_cmds = complaints.add_subparsers(dest="command", required=True)
    train = complaint_cmds.add_parser(
        "train", help="generate the corpus, train and export the complaint classifier"
    )
    train.add_argument(
        "--out",
        type=Path,
        default=Path("functions/complaint_triage/model"),
        help="where the exported model and its metrics are written",
    )
    train.add_argument("--seed", type=int, default=20261124)
    complaint_cmds.add_parser(
        "classify", help='JSON lines {"text": ...} on stdin, one classification per line out'
    ).add_argument("--model", type=Path, default=None, help="an exported model.json")
    forecast = complaint_cmds.add_parser("forecast", help="forecast daily complaint volumes")
    forecast.add_argument(
        "--history", type=Path, required=True, help="CSV: date,jurisdiction_id,service_code,count"
    )
    forecast.add_argument("--horizon", type=int, default=14, help="days ahead (1-90)")
    forecast.add_argument("--out", type=Path, default=None, help="CSV out (default: stdout)")

    forms = groups.add_parser("forms", help="petition forms written through dialogue")
    form_cmds = forms.add_subparsers(dest="command", required=True)
    converse = form_cmds.add_parser(
        "converse",
        help='dialogues offline: {"id", "lang", "turns"} lines in, one result line each out',
        description='Standard input: JSON lines {"id": ..., "lang": "ko"|"en", "turns": [...]}. '
        'Standard output: one JSON line per dialogue {"id", "form_id", "fields", "missing", '
        '"state", "replies"} (docs/FORMS.md). A bad line gets {"line": n, "error": ...} and the '
        "exit status is 1 at the end.",
    )
    converse.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        help="the exported models (default: functions/forms_dialogue/model)",
    )
    converse.add_argument(
        "--today", default=None, help="the conversation's day, YYYY-MM-DD (default: today in Korea)"
    )
    converse.add_argument("--easy", action="store_true", help="answer in easy Korean")
    forms_train = form_cmds.add_parser(
        "train", help="generate dialogues, train and export the form classifier and slot tagger"
    )
    forms_train.add_argument("--out", type=Path, default=Path("functions/forms_dialogue/model"))
    forms_train.add_argument("--seed", type=int, default=20261207)
    generate = form_cmds.add_parser(
        "generate", help="write generated dialogues (converse input and expected results)"
    )
    generate.add_argument("--count", type=int, default=200)
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument("--out", type=Path, required=True, help="a JSON lines file")
    evaluate = form_cmds.add_parser(
        "evaluate", help="form accuracy, slot F1 and whole dialogues on a set of dialogues"
    )
    evaluate.add_argument("set", type=Path, help="JSON lines with expected form_id and fields")
    evaluate.add_argument("--model-dir", type=Path, default=None)
    evaluate.add_argument("--today", default=None, help="overrides each dialogue's own day")
    evaluate.add_argument("--errors", action="store_true", help="print each wrong dialogue")
    # Issuance (issue 11, section 4): the failed workflows, and a sample form's PDF.
    forms_redrive = form_cmds.add_parser(
        "redrive",
        help="restart submitted forms whose issuance workflow failed, from where it failed",
        description="Takes FormIssuanceFailureQueue's messages, then sweeps the submissions "
        "table: a failed submission gets a new execution ({id}-r{n}) that resumes at the step "
        "that failed; one confirmed but never started is started. Failures on the person's "
        "side (no wallet answer, not verified, not matching) are left unless --identity or "
        "--submission (a new presentation request, for a citizen at the counter). One JSON "
        "line per submission; exit status 1 if any stayed. Fix what made them fail first.",
    )
    forms_redrive.add_argument(
        "--limit", type=int, default=100, help="at most this many submissions (default: 100)"
    )
    forms_redrive.add_argument(
        "--identity", action="store_true", help="restart failures on the person's side too"
    )
    forms_redrive.add_argument(
        "--submission", metavar="ID", help="restart this one submission only (any failure)"
    )
    forms_source = forms_redrive.add_mutually_exclusive_group(required=True)
    forms_source.add_argument(
        "--stack", help="the deployed stack's name (its outputs name the parts)"
    )
    forms_source.add_argument("--local", action="store_true", help="the running `local up`")
    forms_render = form_cmds.add_parser(
        "render",
        help="a sample of a form (fictitious values) as the PDF a civil servant or citizen gets",
    )
    forms_render.add_argument("form_id", help="a form of the catalogue, e.g. seal-certificate")
    forms_render.add_argument("--audience", choices=["official", "citizen"], default="official")
    forms_render.add_argument("--out", type=Path, required=True, help="the PDF file to write")

    devices = groups.add_parser("devices", help="simulated safety sensors")
    device_cmds = devices.add_subparsers(dest="command", required=True)
    sim = device_cmds.add_parser(
        "simulate",
        help="publish sensor telemetry over MQTT (local broker or AWS IoT Core)",
        description="Publish JSON telemetry for N sensors of one complex to "
        "gyeonggi/safety/{complex}/{sensor}/telemetry, bounded by --count and --duration "
        "(whichever comes first; at most 1 hour and 1,000,000 messages). For AWS IoT Core "
        "give --endpoint with --cert, --key and --ca (mutual TLS, port 8883).",
    )
    sim.add_argument("--complex", required=True, dest="complex_id", help="e.g. siheung-sihwa")
    sim.add_argument("--sensors", type=int, default=20, help="fleet size (default: 20)")
    sim.add_argument("--rate", type=float, default=1.0, help="readings/s per sensor (default: 1)")
    sim.add_argument("--duration", type=float, default=None, help="seconds (at most 3600)")
    sim.add_argument("--count", type=int, default=None, help="messages (at most 1,000,000)")
    sim.add_argument(
        "--scenario", default="normal", choices=("normal", "gas-leak", "sensor-fault", "fire")
    )
    sim.add_argument("--seed", type=int, default=None, help="repeatable readings")
    sim.add_argument("--qos", type=int, default=1, choices=(0, 1))
    sim.add_argument("--host", default="127.0.0.1", help="local broker (default: 127.0.0.1)")
    sim.add_argument("--port", type=int, default=None, help="default: 1883, or 8883 with TLS")
    sim.add_argument("--endpoint", help="AWS IoT Core data endpoint (replaces --host)")
    sim.add_argument("--cert", type=Path, help="device certificate (PEM) for --endpoint")
    sim.add_argument("--key", type=Path, help="device private key (PEM) for --endpoint")
    sim.add_argument("--ca", type=Path, help="Amazon root CA (PEM) for --endpoint")
    sim.add_argument("--client-id", help="MQTT client id (AWS IoT: allowed by the policy)")

    register = device_cmds.add_parser(
        "register",
        help="register a complex's sensor gateway with AWS IoT Core (thing, certificate, policy)",
        description="Creates the IoT thing (attribute complex_id), an active certificate with "
        "the stack's SensorGatewayPolicy attached, and writes NAME.cert.pem and "
        "NAME.private.key (mode 0600) into --out. The private key exists only in that file. "
        "The Amazon root CA (AmazonRootCA1.pem) is public; get it from Amazon Trust Services.",
    )
    register.add_argument("name", help="the gateway's thing name, also its MQTT client id")
    register.add_argument("--complex", required=True, dest="complex_id")
    register.add_argument("--policy", required=True, help="the stack's SensorGatewayPolicyName")
    register.add_argument("--out", type=Path, default=Path("."), help="folder (default: .)")
    register.add_argument("--local", action="store_true", help="the running `local up`")

    safety = groups.add_parser("safety", help="safety monitoring tools")
    safety_cmds = safety.add_subparsers(dest="command", required=True)
    video = safety_cmds.add_parser(
        "analyze-video", help="fire and smoke in a CCTV segment (MP4 or AVI), JSON on stdout"
    )
    video.add_argument("file", type=Path, help="the video file")
    video.add_argument("--keyframe", type=Path, help="write the keyframe JPEG here")
    video.add_argument(
        "--calibration",
        "--mask",
        type=Path,
        help='the camera\'s calibration as the registry stores it: {"masks": [[[x, y], ...], '
        '...], "min_fire_px": 12}, points as fractions of the frame',
    )
    evaluate = safety_cmds.add_parser(
        "evaluate-video",
        help="generate the held-out evaluation clips, analyse them, print the tables",
        description="Fires by size and time to detect, smoke, false alarms by decoy, on the "
        "evaluation generator's clips (never the ones the detector was tuned on). About "
        "80 clips per seed; run it under nice on a shared machine.",
    )
    evaluate.add_argument("--seed", type=int, action="append", help="evaluation seed (9001 on)")
    evaluate.add_argument("--keep", type=Path, help="keep the clips in this folder")
    train = safety_cmds.add_parser(
        "train-fire-stage",
        help="train the fire detector's second stage on the tuning clips (writes the layer's "
        "fire_stage.json)",
    )
    train.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    train.add_argument("--out", type=Path, default=Path("layers/gyeonggi/safety/fire_stage.json"))
    train.add_argument(
        "--cache",
        type=Path,
        help="the labelled candidates as .npz: read if it exists, else written (generating the "
        "clips takes many minutes, the fit seconds)",
    )
    train.add_argument(
        "--validate",
        type=int,
        nargs="*",
        help="train nothing: check the shipped model on held-out tuning seeds (default 10 11)",
    )
    alarms = safety_cmds.add_parser(
        "alarms",
        help="a complex's alarm levels (SSM /gyeonggi/safety/complexes/<id>/alarms)",
        description='Overrides are JSON, e.g. {"kinds": {"co": {"low": 30, "high": 60}}, '
        '"clear_ratio": 0.85}. `check` validates a file and prints the effective levels; '
        "`put` validates and stores it (AWS credentials and region from the environment, or "
        "the running `local up` with --local); `show` prints what a complex uses now.",
    )
    alarm_cmds = alarms.add_subparsers(dest="action", required=True)
    check = alarm_cmds.add_parser("check", help="validate an overrides file")
    check.add_argument("file", type=Path)
    put = alarm_cmds.add_parser("put", help="validate and store a complex's overrides")
    put.add_argument("complex_id")
    put.add_argument("file", type=Path)
    show = alarm_cmds.add_parser("show", help="the levels a complex uses now")
    show.add_argument("complex_id")
    for sub in (put, show):
        sub.add_argument("--local", action="store_true", help="the running `local up`")
    subscribe = safety_cmds.add_parser(
        "subscribe",
        help="subscribe an endpoint to incident alerts, filtered by complex, severity, level",
        description="One SNS subscription to the IncidentAlertsTopic with a filter policy on the "
        "alerts' attributes: e.g. a complex's safety manager for that complex from level 1, the "
        "province's duty officer for every critical alert and for level 2 and up.",
    )
    subscribe.add_argument(
        "protocol", choices=("email", "email-json", "sms", "https", "sqs", "lambda")
    )
    subscribe.add_argument("endpoint", help="address, phone (+8210...), URL or ARN")
    subscribe.add_argument(
        "--complex",
        action="append",
        default=[],
        dest="complexes",
        help="a complex id (repeat for several; default: every complex)",
    )
    subscribe.add_argument(
        "--min-severity", default="warning", choices=("warning", "alarm", "critical")
    )
    subscribe.add_argument(
        "--min-level",
        type=int,
        default=1,
        choices=(1, 2, 3),
        help="escalation level from which to hear (default: 1)",
    )
    target = subscribe.add_mutually_exclusive_group(required=True)
    target.add_argument("--topic-arn", help="the stack's IncidentAlertsTopicArn output")
    target.add_argument("--local", action="store_true", help="the running `local up`")
    redrive = safety_cmds.add_parser(
        "redrive",
        help="page again about incidents whose alert workflow failed (IncidentFailureQueue)",
        description="Takes the failure queue's messages. An incident that is still open and "
        "whose workflow failed gets a new execution that pages from the level it had reached; "
        "a message about a closed incident, or one whose workflow did not fail, is deleted. "
        "Anything else stays on the queue. One JSON line per message; exit status 1 if any "
        "message stayed. Fix what made the workflow fail first.",
    )
    redrive.add_argument(
        "--limit", type=int, default=100, help="at most this many messages (default: 100)"
    )
    source = redrive.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help="the deployed stack's name (its outputs name the parts)")
    source.add_argument("--local", action="store_true", help="the running `local up`")

    wallet = groups.add_parser("wallet", help="the Digital Gyeonggi Wallet")
    wallet_cmds = wallet.add_subparsers(dest="command", required=True)
    from gyeonggi_tools.wallet import issuer_commands

    issuer_commands.add_commands(wallet_cmds)
    from gyeonggi_tools.wallet import holder_commands

    holder_commands.add_parsers(wallet_cmds)

    from gyeonggi_tools.cctv import commands as cctv_commands

    cctv_commands.add_commands(groups)

    datadam = groups.add_parser("datadam", help="the Gyeonggi Data Dam")
    datadam_cmds = datadam.add_subparsers(dest="command", required=True)
    from gyeonggi_tools import datadam_import

    datadam_import.add_commands(datadam_cmds)

    from gyeonggi_tools import datadam_query

    datadam_query.add_commands(datadam_cmds)

    auth = groups.add_parser("auth", help="tokens and API keys for the local cloud")
    auth_cmds = auth.add_subparsers(dest="command", required=True)
    token = auth_cmds.add_parser("token", help="print a bearer token")
    token.add_argument(
        "roles", nargs="+", help="citizen, civil-servant, operator, admin, kiosk, analyst"
    )
    token.add_argument("--subject", help="the sub claim")
    token.add_argument("--ttl", type=int, default=3600)
    # The same options as `python -m localcloud.issuer mint`, declared here so that building
    # the parser does not import the issuer (and PyJWT) for every command.
    token.add_argument(
        "--jurisdiction",
        action="append",
        default=[],
        metavar="ID",
        help="a city or county a civil servant serves, or whose cameras a control-centre "
        "operator manages, e.g. suwon.gg.kr (repeatable)",
    )
    token.add_argument(
        "--complex",
        action="append",
        default=[],
        metavar="ID",
        help="an industrial complex an operator watches, e.g. banwol (repeatable)",
    )
    token.add_argument(
        "--province", action="store_true", help="the province group: every jurisdiction, complex"
    )
    key = auth_cmds.add_parser("api-key", help="issue an Open311 API key")
    key.add_argument("owner", help="who the key is for, e.g. 'FixMyStreet Suwon'")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    state_dir = _state_dir(args.state_dir)
    root = Path.cwd()

    if args.group == "complaints":
        from gyeonggi_tools.complaints import commands

        return commands.run(args)

    if args.group == "forms":
        from gyeonggi_tools.forms import commands as form_commands

        return form_commands.run(args, state_dir)

    if args.group == "local":
        if args.command == "invoke":
            from localcloud.up import invoke_running

            return invoke_running(state_dir, args.function, args.event)
        if args.command == "seed-volumes":
            from gyeonggi_tools.complaints.seed_volumes_command import seed_volumes_running

            return seed_volumes_running(
                state_dir,
                [j.strip() for j in args.jurisdictions.split(",") if j.strip()],
                args.days,
                [s.strip() for s in args.services.split(",")] if args.services else None,
                backfill=args.backfill,
            )
        if args.command == "up":
            from localcloud.up import serve

            return serve(
                root,
                state_dir,
                api_port=args.api_port,
                mqtt_port=args.mqtt_port,
                moto_port=args.moto_port,
                time_scale=args.time_scale,
            )
        from localcloud.demo import run_demo

        return run_demo(root, state_dir, time_scale=args.time_scale)

    from gyeonggi.common.errors import DomainError
    from gyeonggi_tools.wallet import holder_commands

    try:
        if args.group == "wallet" and args.command in holder_commands.COMMANDS:
            return holder_commands.run(args, state_dir)
        if args.group == "wallet":
            from gyeonggi_tools.wallet import issuer_commands

            return issuer_commands.run(args, state_dir)
        if args.group == "datadam" and args.command == "import":
            from gyeonggi_tools import datadam_import

            return datadam_import.run(args, state_dir)
        if args.group == "datadam":
            from gyeonggi_tools import datadam_query

            return datadam_query.run(args, state_dir)
        if args.group == "cctv":
            from gyeonggi_tools.cctv import commands as cctv_commands

            return cctv_commands.run(args, state_dir)
        if args.group in ("devices", "safety"):
            from gyeonggi_tools.safety import commands as safety_commands

            return safety_commands.run(args, state_dir)
        if args.command == "token":
            from localcloud.issuer import LocalIssuer, scope_of

            issuer = LocalIssuer.load(state_dir)
            print(issuer.mint(args.roles, args.subject, args.ttl, **scope_of(args)))
            return 0
        from localcloud.up import issue_api_key

        print(issue_api_key(state_dir, args.owner))
        return 0
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
