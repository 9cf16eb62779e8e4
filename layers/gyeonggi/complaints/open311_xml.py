"""GeoReport v2 XML: the spec's element names and shapes, built with ElementTree.

Every document is built as a tree and serialised by ``xml.etree.ElementTree``, which escapes
text and never lets a value become markup; nothing here concatenates XML strings. The JSON
structures of :mod:`gyeonggi.complaints.open311` are the input: a dict becomes child elements,
a list becomes one element per item, named as the spec names the items of that list.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

#: Root element of each document, and the element of each item of a top-level list.
DOCUMENTS: dict[str, tuple[str, str | None]] = {
    "discovery": ("discovery", None),
    "services": ("services", "service"),
    "service_definition": ("service_definition", None),
    "service_requests": ("service_requests", "request"),
    "post_response": ("service_requests", "request"),
    "request_updates": ("service_request_updates", "request_update"),
    "errors": ("errors", "error"),
}

#: Nested lists: the element of each item, by the list's own element name.
_ITEMS = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}


# Characters XML 1.0 cannot carry at all, even escaped; a citizen's text may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: Any) -> str:
    if isinstance(value, bool):  # before int: True is an int
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if value is None:
        return  # an empty element, as the spec's examples show absent values
    if isinstance(value, dict):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, list):
        item_name = _ITEMS.get(element.tag, "item")
        for item in value:
            _fill(ET.SubElement(element, item_name), item)
    else:
        element.text = _text(value)


def to_xml(kind: str, data: Any) -> str:
    """Serialise ``data`` (the JSON structure of document ``kind``) as GeoReport v2 XML.

    Parameters
    ----------
    kind
        One of :data:`DOCUMENTS` (``services``, ``service_requests``...).
    data
        The structure the JSON representation uses: a list for list documents, a dict for
        ``discovery`` and ``service_definition``.

    Returns
    -------
    str
        A UTF-8 XML document with its declaration.
    """
    root_name, item_name = DOCUMENTS[kind]
    root = ET.Element(root_name)
    if item_name is None:
        _fill(root, data)
    else:
        for item in data:
            _fill(ET.SubElement(root, item_name), item)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body.decode("utf-8")
