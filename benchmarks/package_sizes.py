"""Deployment package sizes: every function with its layers, on arm64 and x86-64.

Built by ``localcloud.packaging`` (what ``tests/contract/test_deployment_packages.py`` imports
and what the LocalStack deployer ships), one architecture after the other into temporary
folders, and compared with Lambda's 250 MB unzipped limit. pip needs PyPI (or its cache).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks import ROOT, Options, table


def run(options: Options) -> str:
    from localcloud.packaging import ARCHITECTURES, UNZIPPED_LIMIT_BYTES, build_packages
    from localcloud.template import load_template

    template = load_template(ROOT / "template.yaml")
    sizes: dict[str, dict[str, tuple[float, float]]] = {}
    layer_mb: dict[str, float] = {}
    for arch in ARCHITECTURES:
        with tempfile.TemporaryDirectory() as scratch:
            build = build_packages(ROOT, template, Path(scratch) / arch, architecture=arch)
            for logical_id, package in build.functions.items():
                code = package.size_bytes() / 2**20
                total = build.unzipped_bytes(logical_id) / 2**20
                sizes.setdefault(logical_id, {})[arch] = (code, total)
            layer_mb[arch] = sum(p.size_bytes() for p in build.layers.values()) / 2**20
    limit_mb = UNZIPPED_LIMIT_BYTES / 2**20
    rows = []
    for logical_id, by_arch in sorted(sizes.items(), key=lambda kv: -kv[1]["x86_64"][1]):
        row = [logical_id]
        for arch in ARCHITECTURES:
            code, total = by_arch[arch]
            row += [f"{code:.1f}", f"{total:.1f} ({total / limit_mb:.0%})"]
        rows.append(row)
    header = ["function"]
    for arch in ARCHITECTURES:
        header += [f"{arch} code MB", f"{arch} with layer MB (of 250)"]
    layers = ", ".join(f"{arch} {mb:.1f} MB" for arch, mb in layer_mb.items())
    return (
        "### Deployment package sizes\n\n"
        f"Unzipped, as Lambda counts them; the domain layer alone: {layers}.\n\n"
        + table(header, rows)
    )
