"""The one XML parser configuration: no DTDs, no entities, no network, bounded size and depth."""

from __future__ import annotations

from lxml import etree

MAX_XML_BYTES = 50 * 1024 * 1024
MAX_DEPTH = 64


class XmlInputError(ValueError):
    """XML that is refused, with the reason."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_blank_text=True,
        remove_pis=True,
    )


def parse_trusted(data: bytes) -> etree._Element:
    """Parse XML safely; refuse DOCTYPEs, oversize input and excessive nesting."""
    if len(data) > MAX_XML_BYTES:
        raise XmlInputError(f"XML of {len(data)} bytes exceeds the limit of {MAX_XML_BYTES}")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise XmlInputError(f"not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise XmlInputError("XML with a DOCTYPE is refused")
    for element in root.iter():
        depth = sum(1 for _ in element.iterancestors())
        if depth > MAX_DEPTH:
            raise XmlInputError(f"XML nested deeper than {MAX_DEPTH} levels is refused")
    return root
