"""What ships is what is tested: every function imports from its own deployment package.

The packages are built as ``sam build`` builds them (``localcloud.packaging``: pip into clean
folders, wheels for Linux, no dev dependencies), then each handler is imported by a fresh
Python 3.12 interpreter that sees only the function's folder, its layers, and boto3 (what the
Lambda runtime provides). A dependency the dev environment happens to have (``jsonpath-ng``
through moto, once) cannot hide here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from localcloud.packaging import (
    RUNTIME_PROVIDED,
    UNZIPPED_LIMIT_BYTES,
    Build,
    BuildError,
    build_packages,
    host_architecture,
    installed_distributions,
    runtime_python,
)
from localcloud.template import load_template
from tests.conftest import ROOT

TEMPLATE = load_template(ROOT / "template.yaml")
FUNCTIONS = sorted(
    logical_id
    for logical_id, spec in TEMPLATE["Resources"].items()
    if spec["Type"] == "AWS::Serverless::Function"
)
#: Room kept under Lambda's limit so that a dependency's next release does not break a deploy.
SIZE_MARGIN = 0.08

# Run in the package's interpreter: import the handler as Lambda does, then report where every
# loaded module came from.
_IMPORT_PROBE = """
import importlib, json, sys
sys.path[:0] = json.loads(sys.argv[1])
module_name, _, attribute = sys.argv[2].rpartition(".")
module = importlib.import_module(module_name)
handler = getattr(module, attribute)
files = sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())})
print(json.dumps({"callable": callable(handler), "files": [f for f in files if f]}))
"""


@pytest.fixture(scope="session")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The template's packages for this machine's architecture (importable here)."""
    build_dir = tmp_path_factory.mktemp("packages")
    return build_packages(ROOT, TEMPLATE, build_dir, architecture=host_architecture())


@pytest.fixture(scope="session")
def lambda_python() -> Path:
    try:
        return runtime_python(ROOT)
    except BuildError as exc:
        pytest.skip(f"no Python 3.12 to stand in for the Lambda runtime: {exc}")


def _environment(logical_id: str) -> dict[str, str]:
    """The function's declared variables; intrinsics become placeholders (nothing is called)."""
    variables = {
        **TEMPLATE.get("Globals", {})
        .get("Function", {})
        .get("Environment", {})
        .get("Variables", {}),
        **TEMPLATE["Resources"][logical_id]["Properties"]
        .get("Environment", {})
        .get("Variables", {}),
    }
    env = {
        name: value
        if isinstance(value, str)
        else (json.dumps(value) if not isinstance(value, dict) else f"placeholder-{name.lower()}")
        for name, value in variables.items()
    }
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_REGION": "ap-northeast-2",
        "AWS_DEFAULT_REGION": "ap-northeast-2",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_LAMBDA_FUNCTION_NAME": logical_id,
        **env,
    }


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_the_function_imports_from_its_own_package_under_python_3_12(
    logical_id: str, packages: Build, lambda_python: Path
) -> None:
    # Given: the function's package and its layers, as Lambda unpacks them
    package = packages.functions[logical_id]
    path = [str(p) for p in packages.import_path(logical_id)]
    # When: a fresh 3.12 interpreter, isolated from this environment (-I), imports the handler
    done = subprocess.run(
        [str(lambda_python), "-I", "-c", _IMPORT_PROBE, json.dumps(path), str(package.handler)],
        cwd=package.path,
        env=_environment(logical_id),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then: it imports, and nothing came from outside the package but the runtime's own
    assert done.returncode == 0, f"{logical_id} fails at import:\n{done.stderr[-3000:]}"
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["callable"], f"{logical_id}: {package.handler} is not callable"
    runtime_site = lambda_python.parent.parent / "lib"
    outside = []
    for file in report["files"]:
        if any(file.startswith(p) for p in path):
            continue
        if file.startswith(str(runtime_site)) and "site-packages" in file:
            distribution = file.split("site-packages/", 1)[1].split("/", 1)[0]
            if re.sub(r"\.py$", "", distribution).replace("_", "-") in {
                *RUNTIME_PROVIDED,
                "dateutil",
            }:
                continue
            outside.append(file)
        elif "site-packages" in file:
            outside.append(file)
    assert not outside, f"{logical_id} imported from outside its package: {outside[:5]}"


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_the_function_fits_lambdas_unzipped_limit_with_margin(
    logical_id: str, packages: Build
) -> None:
    size = packages.unzipped_bytes(logical_id)
    limit = UNZIPPED_LIMIT_BYTES * (1 - SIZE_MARGIN)
    assert size <= limit, (
        f"{logical_id} is {size / 2**20:.1f} MB with its layers on {packages.architecture}; "
        f"keep it under {limit / 2**20:.0f} MB (Lambda's 250 MB less {SIZE_MARGIN:.0%})"
    )


def test_no_package_ships_what_the_runtime_already_has(packages: Build) -> None:
    for package in [*packages.functions.values(), *packages.layers.values()]:
        root = package.path / "python" if package.handler is None else package.path
        shipped = set(installed_distributions(root)) & RUNTIME_PROVIDED
        assert not shipped, f"{package.logical_id} ships {shipped}"


def test_a_function_does_not_ship_a_second_copy_of_what_its_layer_has(packages: Build) -> None:
    layer = {
        name
        for layer in packages.layers.values()
        for name in installed_distributions(layer.path / "python")
    }
    for package in packages.functions.values():
        twice = set(installed_distributions(package.path)) & layer
        assert not twice, f"{package.logical_id} duplicates {twice} of its layer"


def test_the_triage_function_ships_its_model(packages: Build) -> None:
    model = packages.functions["TriageFunction"].path / "model" / "model.json"
    document: dict[str, Any] = json.loads(model.read_text(encoding="utf-8"))
    assert document["format"] == "gyeonggi-complaint-classifier/1"


def test_the_layer_ships_the_kiosk_pages_script_and_style(packages: Build) -> None:
    # Files, not modules: the kiosk page (gyeonggi.forms.kiosk_page) reads them at run time.
    for layer in packages.layers.values():
        folder = layer.path / "python" / "gyeonggi" / "forms" / "kiosk"
        assert sorted(p.name for p in folder.iterdir()) == ["kiosk.css", "kiosk.js"]


def _name(requirement: str) -> str:
    """The distribution a requirement line names: ``pyjwt[crypto]>=2.8`` -> ``pyjwt``."""
    return re.split(r"[\[<>=!~; ]", requirement.strip(), maxsplit=1)[0].lower()


def _requirement_names(path: Path) -> set[str]:
    lines = (line.split("#", 1)[0] for line in path.read_text(encoding="utf-8").splitlines())
    return {_name(line) for line in lines if line.strip()}


def test_the_dev_environment_has_every_package_a_function_ships() -> None:
    """``pyproject.toml`` installs what the layer and every function declare, so the embedded
    cloud runs the handlers with the same libraries they ship with."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {
        _name(requirement)
        for group in [
            project["project"]["dependencies"],
            *project["project"]["optional-dependencies"].values(),
        ]
        for requirement in group
    }
    shipped = set().union(
        *(
            _requirement_names(p)
            for p in [
                ROOT / "layers" / "requirements.txt",
                *ROOT.glob("functions/*/requirements.txt"),
            ]
        )
    )
    assert shipped <= declared, f"pyproject.toml lacks {sorted(shipped - declared)}"


# Run in the render function's package: a Korean form rendered with the font it ships.
_RENDER_PROBE = """
import json, sys
sys.path[:0] = json.loads(sys.argv[1])
from pathlib import Path
from gyeonggi.forms.documents import FormDocument, Row
from gyeonggi.forms.pdf import render_pdf
document = FormDocument(
    "official", "인감증명서 발급 신청", "Seal (ingam) certificate", "FA-probe", "2026년 12월 7일",
    "수원시 (suwon.gg.kr)", "공무원 처리용 원본",
    (Row("applicant_name", "신청인 성명", "Applicant's name", "김하늘"),),
    "1통 600원", (), (), (), ("디지털 경기 지갑으로 본인 확인",),
)
sys.stdout.buffer.write(render_pdf(document, Path("fonts/NanumGothic.ttf")))
"""


def test_the_render_function_renders_a_korean_pdf_from_its_package_under_python_3_12(
    packages: Build, lambda_python: Path
) -> None:
    # Given: the render function's package (fpdf2, its font and licence) as Lambda unpacks it
    package = packages.functions["FormRenderFunction"]
    assert (package.path / "fonts" / "NanumGothic.ttf").is_file()
    assert (package.path / "fonts" / "OFL.txt").is_file()
    path = [str(p) for p in packages.import_path("FormRenderFunction")]
    # When: a fresh 3.12 interpreter renders a form from it, with nothing else on the path
    done = subprocess.run(
        [str(lambda_python), "-I", "-c", _RENDER_PROBE, json.dumps(path)],
        cwd=package.path,
        env=_environment("FormRenderFunction"),
        capture_output=True,
        timeout=120,
        check=False,
    )
    # Then: a PDF whose Korean text reads back
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-3000:]
    assert done.stdout.startswith(b"%PDF-")
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("poppler-utils is not installed: the PDF was made, its text not read back")
    text = subprocess.run(
        [pdftotext, "-enc", "UTF-8", "-", "-"],
        input=done.stdout,
        capture_output=True,
        timeout=60,
        check=True,
    ).stdout.decode("utf-8")
    assert "신청인 성명" in text and "김하늘" in text and "인감증명서 발급 신청" in text


_LAKE_PROBE = """
import json, sys
sys.path[:0] = json.loads(sys.argv[1])
import app

class Context:
    function_name = "probe"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:probe"
    aws_request_id = "probe"

    def get_remaining_time_in_millis(self):
        return 60000

with open(sys.argv[2], encoding="utf-8") as f:
    event = json.load(f)
print(json.dumps(app.handler(event, Context())))
"""


def test_the_packaged_lake_writer_writes_iceberg_tables_under_python_3_12(
    packages: Build, lambda_python: Path, tmp_path: Path
) -> None:
    """Importing is not enough for pyarrow (native libraries, some removed after pip): the Data
    Dam's events function, from its package, writes its sample batch to a moto server."""
    import socket
    import time

    import boto3

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    moto_server = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "moto_server"
    if not moto_server.exists():
        moto_server = ROOT / ".venv" / "bin" / "moto_server"
    server = subprocess.Popen(
        [str(moto_server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "moto_server did not start"
                time.sleep(0.1)
        aws: dict[str, Any] = {"region_name": "ap-northeast-2", "endpoint_url": endpoint,
                               "aws_access_key_id": "testing",
                               "aws_secret_access_key": "testing"}  # fmt: skip
        boto3.client("s3", **aws).create_bucket(
            Bucket="packaged-lake",
            CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"},
        )
        key = boto3.client("kms", **aws).create_key(
            KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC"
        )["KeyMetadata"]["KeyId"]
        logical_id = "DataDamEventsFunction"
        env = {
            **_environment(logical_id),
            "DATADAM_BUCKET": "packaged-lake",
            "DATADAM_DATABASE": "packaged_lake",
            "DATADAM_GLUE_ENDPOINT": endpoint,
            "DATADAM_S3_ENDPOINT": endpoint,
            "PSEUDONYM_KEY_ID": key,
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        # The pseudonym key is reached through boto3's own endpoint variable.
        env["AWS_ENDPOINT_URL_KMS"] = endpoint
        path = [str(p) for p in packages.import_path(logical_id)]
        event = ROOT / "events" / "datadam_events" / "sqs_batch.json"
        done = subprocess.run(
            [str(lambda_python), "-I", "-c", _LAKE_PROBE, json.dumps(path), str(event)],
            cwd=packages.functions[logical_id].path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert json.loads(done.stdout.strip().splitlines()[-1]) == {"batchItemFailures": []}
        glue: Any = boto3.client("glue", **aws)
        tables = glue.get_tables(DatabaseName="packaged_lake")["TableList"]
        assert {t["Name"] for t in tables} == {
            "complaints",
            "complaint_routing",
            "complaint_surges",
            "safety_incidents",
        }
        assert all(t["Parameters"]["table_type"] == "ICEBERG" for t in tables)
    finally:
        server.terminate()
        server.wait(10)
