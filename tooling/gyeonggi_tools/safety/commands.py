"""``gyeonggi devices simulate`` and ``gyeonggi safety ...``: sensors, video, alarm levels.

Each command imports only what it needs: ``alarms`` never loads OpenCV.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gyeonggi.common.errors import InvalidInput


def run(args: argparse.Namespace, state_dir: Path) -> int:
    """Dispatch one ``devices`` or ``safety`` command; returns the exit status."""
    if args.group == "devices":
        if args.command == "register":
            return _register_gateway(args, state_dir)
        return _simulate_devices(args)
    if args.command == "analyze-video":
        return _analyze_video(args)
    if args.command == "evaluate-video":
        from gyeonggi_tools.safety.video_evaluation import run as evaluate

        return evaluate(args.seed, keep=args.keep)
    if args.command == "train-fire-stage":
        from gyeonggi_tools.safety.fire_training import main as train

        argv = ["--seeds", *map(str, args.seeds), "--out", str(args.out)]
        if args.cache is not None:
            argv += ["--cache", str(args.cache)]
        if args.validate is not None:
            argv += ["--validate", *map(str, args.validate)]
        return train(argv)
    if args.command == "subscribe":
        return _subscribe(args, state_dir)
    if args.command == "redrive":
        return _redrive(args, state_dir)
    return _alarms(args, state_dir)


def _simulate_devices(args: argparse.Namespace) -> int:
    """Run ``devices simulate``: progress lines on stderr, the summary on stdout."""
    from gyeonggi_tools.safety.simulator import TlsConfig, simulate

    tls = None
    host = args.host
    if args.endpoint or args.cert or args.key or args.ca:
        if not (args.endpoint and args.cert and args.key and args.ca):
            raise InvalidInput("--endpoint, --cert, --key and --ca go together (AWS IoT Core)")
        tls = TlsConfig(cert=args.cert, key=args.key, ca=args.ca)
        host = args.endpoint
    if args.duration is None and args.count is None:
        # Refused by the library too; said here in the command's own terms.
        raise InvalidInput("give --duration SECONDS or --count MESSAGES (or both)")
    summary = simulate(
        args.complex_id,
        sensors=args.sensors,
        rate=args.rate,
        duration=args.duration,
        count=args.count,
        scenario=args.scenario,
        seed=args.seed,
        qos=args.qos,
        host=host,
        port=args.port or (8883 if tls else 1883),
        tls=tls,
        client_id=args.client_id,
        progress=lambda p: print(p.format(), file=sys.stderr, flush=True),
    )
    print(summary.format())
    return 0 if summary.errors == 0 else 1


def _analyze_video(args: argparse.Namespace) -> int:
    """Run ``safety analyze-video``: the analysis JSON on stdout, the keyframe if asked."""
    from gyeonggi.safety.camera_calibration import CameraCalibration
    from gyeonggi.safety.video import analyze

    if not args.file.is_file():
        raise InvalidInput(f"no such file: {args.file}")
    calibration = None
    if args.calibration is not None:
        calibration = CameraCalibration.from_json(_read_overrides(args.calibration))
    result = analyze(args.file, calibration)
    if args.keyframe is not None:
        if not result.keyframe_jpeg:
            raise InvalidInput("the video gave no keyframe")
        args.keyframe.write_bytes(result.keyframe_jpeg)
    print(json.dumps(result.to_json(), indent=2))
    return 0


def _read_overrides(path: Path) -> dict[str, Any]:
    try:
        overrides = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"no such file: {path}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{path}: not JSON ({exc})") from None
    if not isinstance(overrides, dict):
        raise InvalidInput(f"{path}: must be a JSON object")
    return overrides


def _alarms(args: argparse.Namespace, state_dir: Path) -> int:
    """``safety alarms check|put|show``: the effective configuration as JSON on stdout."""
    from gyeonggi.safety.alarm_configs import ComplexAlarmConfigs
    from gyeonggi.safety.alarms import AlarmConfig

    if args.action == "check":
        config = AlarmConfig.from_mapping(_read_overrides(args.file))
    else:
        ssm = None
        if args.local:
            from localcloud.up import running_client

            ssm = running_client(state_dir, "ssm")
        from botocore.exceptions import BotoCoreError, ClientError

        configs = ComplexAlarmConfigs(ttl_s=0, ssm=ssm, on_invalid=_warn_invalid)
        try:
            if args.action == "put":
                config = configs.put(args.complex_id, _read_overrides(args.file))
                print(f"stored {configs.PATH.format(complex_id=args.complex_id)}", file=sys.stderr)
            else:
                config = configs.get(args.complex_id)
        except (BotoCoreError, ClientError) as exc:
            print(f"error: SSM Parameter Store: {exc}", file=sys.stderr)
            return 1
    print(json.dumps(config.to_json(), indent=2))
    return 0


def _warn_invalid(complex_id: str, reason: str) -> None:
    print(f"warning: {complex_id}'s stored overrides are invalid ({reason}); the alarm path "
          "uses the industry defaults below", file=sys.stderr)  # fmt: skip


def _subscribe(args: argparse.Namespace, state_dir: Path) -> int:
    """``safety subscribe``: the subscription ARN and its filter policy on stdout."""
    from botocore.exceptions import BotoCoreError, ClientError

    from gyeonggi_tools.safety.subscriptions import AlertSubscriptions, filter_policy

    policy = filter_policy(args.complexes, args.min_severity, args.min_level)
    if args.local:
        from localcloud.up import running_client, running_resource

        alerts = AlertSubscriptions(
            running_resource(state_dir, "IncidentAlertsTopic"), running_client(state_dir, "sns")
        )
    else:
        alerts = AlertSubscriptions(args.topic_arn)
    try:
        arn = alerts.subscribe(args.protocol, args.endpoint, policy)
    except (BotoCoreError, ClientError) as exc:
        print(f"error: SNS: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"subscription_arn": arn, "filter_policy": policy}, indent=2))
    return 0


def _redrive(args: argparse.Namespace, state_dir: Path) -> int:
    """``safety redrive``: one JSON line per message; 1 when a message stayed on the queue."""
    from botocore.exceptions import BotoCoreError, ClientError

    from gyeonggi.common.clock import now as now_utc
    from gyeonggi.safety.incident_store import IncidentStore
    from gyeonggi.safety.incident_workflow import IncidentWorkflow
    from gyeonggi_tools.safety.redrive import redrive
    from gyeonggi_tools.stacks import workflow_resources

    if args.limit < 1:
        print("error: --limit must be at least 1", file=sys.stderr)
        return 2
    try:
        found = workflow_resources(
            args.local,
            args.stack,
            state_dir,
            queue="IncidentFailureQueue",
            table="IncidentsTable",
            machine="SafetyAlertStateMachine",
        )
        store = IncidentStore(found.table, dynamodb=found.dynamodb)
        workflow = IncidentWorkflow(found.machine, sfn=found.sfn)
        results = redrive(found.sqs, found.queue_url, store, workflow, now_utc(), args.limit)
    except (BotoCoreError, ClientError) as exc:
        print(f"error: AWS: {exc}", file=sys.stderr)
        return 1
    except KeyError as exc:
        print(f"error: stack {args.stack} has no output {exc}", file=sys.stderr)
        return 1
    for result in results:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    left = sum(1 for r in results if r.outcome == "left")
    restarted = sum(1 for r in results if r.outcome == "restarted")
    print(
        f"{len(results)} message(s): {restarted} incident(s) paging again, {left} left on the "
        "queue",
        file=sys.stderr,
    )
    return 1 if left else 0


def _register_gateway(args: argparse.Namespace, state_dir: Path) -> int:
    """``devices register``: the registration as JSON, and the simulate command that uses it."""
    from botocore.exceptions import BotoCoreError, ClientError

    from gyeonggi_tools.safety.devices import GatewayRegistry

    iot = None
    if args.local:
        from localcloud.up import running_client

        iot = running_client(state_dir, "iot")
    try:
        done = GatewayRegistry(args.policy, iot).register(args.complex_id, args.name, args.out)
    except (BotoCoreError, ClientError) as exc:
        print(f"error: AWS IoT: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(done.to_json(), indent=2))
    print(
        "publish with: gyeonggi devices simulate --complex "
        f"{done.complex_id} --client-id {done.thing_name} --endpoint {done.endpoint} "
        f"--cert {done.certificate_file} --key {done.private_key_file} --ca AmazonRootCA1.pem "
        "--duration 60",
        file=sys.stderr,
    )
    return 0
