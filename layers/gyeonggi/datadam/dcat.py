"""The catalogue as DCAT (W3C Data Catalog Vocabulary 3) in JSON-LD, for portals to harvest.

One ``dcat:Catalog`` with a ``dcat:Dataset`` per catalogued dataset: titles and descriptions in
Korean and English, the publisher (Gyeonggi-do) and the office that answers for it
(``dcat:contactPoint``), the licence (KOGL Type 1, 공공누리 제1유형, for open sets), access rights,
keywords, the schema as CSVW columns with their descriptions, the privacy policy applied, and
from the Iceberg table's current snapshot: when it last changed (``dct:modified``) and how many
rows and bytes it holds. Open sets have a ``dcat:distribution`` per format of
``GET /datadam/open/{dataset}``; closed ones none (analysts query them).

Terms DCAT has no word for (row count, privacy rules, the Iceberg table) are in this API's own
vocabulary, ``<api>/datadam/ns#``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from gyeonggi.datadam.datasets import KOGL_1, NAMESPACE, Dataset
from gyeonggi.datadam.tables import Snapshot

KOGL_1_URL = "https://www.kogl.or.kr/info/licenseType1.do"
PUBLISHER = {
    "@type": "foaf:Organization",
    "foaf:name": [
        {"@language": "ko", "@value": "경기도"},
        {"@language": "en", "@value": "Gyeonggi Province"},
    ],
}
# Iceberg column types as XML Schema datatypes (CSVW's).
_XSD = {
    "string": "xsd:string",
    "long": "xsd:long",
    "double": "xsd:double",
    "boolean": "xsd:boolean",
    "date": "xsd:date",
    "timestamp": "xsd:dateTime",
}
_MEDIA = {"csv": "text/csv", "json": "application/json"}


def context(base_url: str) -> dict[str, str]:
    return {
        "dcat": "http://www.w3.org/ns/dcat#",
        "dct": "http://purl.org/dc/terms/",
        "foaf": "http://xmlns.com/foaf/0.1/",
        "vcard": "http://www.w3.org/2006/vcard/ns#",
        "csvw": "http://www.w3.org/ns/csvw#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "datadam": f"{base_url}/datadam/ns#",
    }


def _text(ko: str, en: str) -> list[dict[str, str]]:
    return [{"@language": "ko", "@value": ko}, {"@language": "en", "@value": en}]


def _owner(owner: str) -> dict[str, Any]:
    # "경기도 민원담당관 / Civil Petitions Office": Korean, then English.
    ko, _, en = owner.partition(" / ")
    return {"@type": "vcard:Organization", "vcard:fn": _text(ko.strip(), (en or ko).strip())}


def _licence(dataset: Dataset) -> dict[str, Any]:
    if dataset.licence == KOGL_1:
        return {"@id": KOGL_1_URL, "dct:title": dataset.licence}
    return {"dct:title": dataset.licence}


def _schema(dataset: Dataset) -> dict[str, Any]:
    return {
        "@type": "csvw:Schema",
        "csvw:column": [
            {
                "csvw:name": c.name,
                "csvw:datatype": _XSD.get(c.type, "xsd:string"),
                "csvw:required": c.required,
                "dct:description": _text(c.description_ko, c.description_en),
            }
            for c in dataset.columns
        ],
        "datadam:dayColumn": dataset.day_column,
        "datadam:jurisdictionColumn": dataset.jurisdiction_column,
        "datadam:keyColumns": list(dataset.key_columns),
    }


def _stamp(moment: datetime | None) -> dict[str, str] | None:
    if moment is None:
        return None
    return {"@value": moment.isoformat().replace("+00:00", "Z"), "@type": "xsd:dateTime"}


def dataset_node(dataset: Dataset, snapshot: Snapshot | None, base_url: str) -> dict[str, Any]:
    """One ``dcat:Dataset``; ``snapshot`` ``None`` when its table is not in the lake yet."""
    node: dict[str, Any] = {
        "@id": f"{base_url}/datadam/datasets#{dataset.id}",
        "@type": "dcat:Dataset",
        "dct:identifier": dataset.id,
        "dct:title": _text(dataset.title_ko, dataset.title_en),
        "dct:description": _text(dataset.description_ko, dataset.description_en),
        "dct:publisher": PUBLISHER,
        "dcat:contactPoint": _owner(dataset.owner),
        "dct:license": _licence(dataset),
        "dct:accessRights": "public" if dataset.open else "non-public",
        "dct:provenance": dataset.source,
        "dcat:keyword": [dataset.id.replace("_", " "), "Gyeonggi", "경기도"],
        "dct:conformsTo": _schema(dataset),
        "datadam:privacy": [
            {
                "datadam:field": r.field,
                "datadam:action": r.action,
                "dct:description": _text(r.describe("ko"), r.describe("en")),
            }
            for r in dataset.privacy
        ],
        "datadam:table": f"{NAMESPACE}.{dataset.id}",
        "datadam:open": dataset.open,
    }
    if dataset.open:
        node["datadam:openDimensions"] = list(dataset.open_dimensions)
        node["dcat:distribution"] = [
            {
                "@type": "dcat:Distribution",
                "dcat:accessURL": {"@id": f"{base_url}/datadam/open/{dataset.id}.{fmt}"},
                "dcat:downloadURL": {"@id": f"{base_url}/datadam/open/{dataset.id}.{fmt}"},
                "dcat:mediaType": _MEDIA[fmt],
                "dct:format": fmt.upper(),
                "dct:license": _licence(dataset),
                "dct:description": _text(
                    f"{', '.join(dataset.open_dimensions)}별 집계, 5건 미만 칸은 공개하지 않음",
                    f"Aggregated by {', '.join(dataset.open_dimensions)}; cells under 5 are "
                    "not published",
                ),
            }
            for fmt in ("csv", "json")
        ]
    if snapshot is None:
        node["datadam:landed"] = False
        return node
    node["datadam:landed"] = True
    modified = _stamp(snapshot.committed_at)
    if modified:
        node["dct:modified"] = modified
    node["datadam:rowCount"] = snapshot.records
    node["datadam:dataFiles"] = snapshot.data_files
    node["dcat:byteSize"] = snapshot.bytes
    node["datadam:snapshotId"] = str(snapshot.snapshot_id) if snapshot.snapshot_id else None
    return node


def catalog(
    datasets: Iterable[Dataset],
    snapshot_of: Callable[[Dataset], Snapshot | None],
    base_url: str,
) -> dict[str, Any]:
    """The whole catalogue as one JSON-LD document."""
    base = base_url.rstrip("/")
    return {
        "@context": context(base),
        "@id": f"{base}/datadam/datasets",
        "@type": "dcat:Catalog",
        "dct:title": _text("경기 데이터 댐", "Gyeonggi Data Dam"),
        "dct:description": _text(
            "경기도 행정 시스템의 데이터를 한곳에 모아 가명처리하고 조회할 수 있게 한 목록",
            "The data of the province's administrative systems, collected, pseudonymised "
            "and queryable in one place",
        ),
        "dct:publisher": PUBLISHER,
        "dct:language": ["ko", "en"],
        "dcat:dataset": [dataset_node(d, snapshot_of(d), base) for d in datasets],
    }
