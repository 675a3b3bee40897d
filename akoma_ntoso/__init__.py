"""The legal-text model of Constituent: units, numbering, eIds and GUIDs, as pure functions.

Reads plain lxml trees and dicts (see docs/document-model.md); knows nothing of Flask, the
database or the CRDT.
"""

from .builder import Built, Draft, Finding, build
from .errors import AkomaNtosoError, DocumentStructureError, NumberingError
from .guids import NAMESPACE, GuidRepair, is_valid_guid, new_guid, plan_guid_repairs
from .numbering import (
    LANGUAGES,
    NUMBERED_KINDS,
    STYLES,
    default_style,
    format_label,
    format_number,
    parse_number,
    resolve_styles,
)
from .units import (
    ALLOWED_CHILDREN,
    ATTACHMENT,
    CROSS_HEADING,
    EID_ABBREVIATIONS,
    TABLE,
    TEXT_BLOCKS,
    TOP_LEVEL_KINDS,
    UNIT_KINDS,
    UNNUMBERED,
    Table,
    Unit,
    ancestors,
    eid_num,
    find_unit,
    iter_units,
    read_units,
    unit_blocks,
)

__all__ = [
    "Built",
    "Draft",
    "Finding",
    "build",
    "ALLOWED_CHILDREN",
    "ATTACHMENT",
    "CROSS_HEADING",
    "TABLE",
    "Table",
    "unit_blocks",
    "EID_ABBREVIATIONS",
    "LANGUAGES",
    "NAMESPACE",
    "NUMBERED_KINDS",
    "STYLES",
    "TEXT_BLOCKS",
    "TOP_LEVEL_KINDS",
    "UNIT_KINDS",
    "UNNUMBERED",
    "AkomaNtosoError",
    "DocumentStructureError",
    "GuidRepair",
    "NumberingError",
    "Unit",
    "default_style",
    "eid_num",
    "ancestors",
    "find_unit",
    "format_label",
    "format_number",
    "is_valid_guid",
    "iter_units",
    "new_guid",
    "parse_number",
    "plan_guid_repairs",
    "read_units",
    "resolve_styles",
]
