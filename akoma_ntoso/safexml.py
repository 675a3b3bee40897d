"""The one way XML from outside is parsed: no DTD, no entities, no network, bounded size and depth.

Hostile inputs are refused before they can cost anything: a document type declaration (where
"billion laughs" and external entities live) is refused before the parser sees it, input over
`MAX_XML_BYTES` is refused before it is parsed, and lxml's own limits stay on (`huge_tree` off).
"""

from __future__ import annotations

import re
from typing import Final

from lxml import etree

from .errors import AkomaNtosoError

MAX_XML_BYTES: Final = 50 * 1024 * 1024
MAX_DEPTH: Final = 64

# Before the root element only an XML declaration, comments, processing instructions and
# whitespace may come; a DOCTYPE is what this module refuses.
_PROLOG_ITEM = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.S)


class XmlInputError(AkomaNtosoError):
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


def parse_xml(data: bytes) -> etree._Element:
    """Parse untrusted XML; refuse DOCTYPEs, oversize input and excessive nesting clearly."""
    if len(data) > MAX_XML_BYTES:
        raise XmlInputError(
            f"the XML is {len(data) / 1048576:.1f} MB; the limit is {MAX_XML_BYTES // 1048576} MB"
        )
    if _declares_doctype(data):
        raise XmlInputError(
            "the XML declares a document type (<!DOCTYPE …>); DTDs and entities are refused"
        )
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise XmlInputError(f"the XML cannot be read: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise XmlInputError("the XML declares a document type; DTDs and entities are refused")
    _check_depth(root)
    return root


def _declares_doctype(data: bytes) -> bool:
    head = data[:1 << 20]
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if head.startswith(bom):
            head = head[len(bom):]
            break
    if b"\x00" in head[:200]:  # UTF-16: look at its ASCII bytes
        head = head.replace(b"\x00", b"")
    position = 0
    while match := _PROLOG_ITEM.match(head, position):
        position = match.end()
    return head[position:position + 9].upper() == b"<!DOCTYPE"


def _check_depth(root: etree._Element) -> None:
    stack = [iter([root])]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            continue
        if len(stack) > MAX_DEPTH:
            raise XmlInputError(f"the XML is nested deeper than {MAX_DEPTH} levels")
        stack.append(iter(child))
