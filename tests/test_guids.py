"""Unit GUIDs: every replica that repairs the same broken state must agree on the result."""

import uuid

from lxml import etree

from akoma_ntoso import NAMESPACE, is_valid_guid, new_guid, plan_guid_repairs

G = "0f8e3c2a-1b4d-4c6e-9a7b-5d3f2e1c0b9a"
H = "6a1d9e4b-7c2f-4e8a-b3d5-9f0c1e2d3a4b"


def body(xml: str) -> etree._Element:
    return etree.fromstring(xml)


def derived(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


def apply(tree: etree._Element, repairs) -> None:
    """What the server does in the CRDT, here on the lxml copy: follow each path, set guid."""
    for path, guid in repairs:
        element = tree
        for index in path:
            element = [child for child in element if isinstance(child.tag, str)][index]
        element.set("guid", guid)


def guids_in_order(tree: etree._Element) -> list[str]:
    return [e.get("guid") for e in tree.iter() if e.tag not in ("body", "heading", "p")]


def test_namespace_is_derived_from_the_project_url():
    assert NAMESPACE == uuid.uuid5(uuid.NAMESPACE_URL, "https://constituent.example/guid")


def test_new_guids_are_fresh_canonical_uuid4s():
    first, second = new_guid(), new_guid()
    assert first != second
    assert is_valid_guid(first)
    assert uuid.UUID(first).version == 4


def test_valid_guids_are_canonical_lower_case_uuids():
    assert is_valid_guid(G)
    assert is_valid_guid(derived("missing:0"))  # repaired GUIDs (UUID5) stay valid
    assert not is_valid_guid(G.upper())
    assert not is_valid_guid("{" + G + "}")
    assert not is_valid_guid(G.replace("-", ""))
    assert not is_valid_guid("")
    assert not is_valid_guid(None)
    assert not is_valid_guid(G + "\n")


def test_document_with_unique_guids_needs_no_repair():
    tree = body(f'<body><article guid="{G}"><p>x</p><paragraph guid="{H}"/></article></body>')
    assert plan_guid_repairs(tree) == []


def test_repair_keeps_first_occurrence():
    tree = body(
        f"""<body>
              <article guid="{G}"><heading>Agua</heading></article>
              <article guid="{G}"><heading>Agua (copia)</heading></article>
            </body>"""
    )
    assert plan_guid_repairs(tree) == [((1,), derived(G + "#1"))]


def test_duplicate_guid_repair_is_deterministic():
    xml = f"""<body>
                <article guid="{G}"/>
                <title guid="{G}"><article guid="{G}"/><article/></title>
              </body>"""
    first, second = plan_guid_repairs(body(xml)), plan_guid_repairs(body(xml))
    assert first == second
    assert first == [
        ((1,), derived(G + "#1")),
        ((1, 0), derived(G + "#2")),
        ((1, 1), derived("missing:1/1")),
    ]


def test_later_duplicates_are_counted_in_document_order_depth_first():
    tree = body(
        f"""<body>
              <article guid="{G}"><paragraph guid="{H}"/><paragraph guid="{G}"/></article>
              <article guid="{H}"/>
            </body>"""
    )
    assert plan_guid_repairs(tree) == [((0, 1), derived(G + "#1")), ((1,), derived(H + "#1"))]


def test_missing_guid_path_counts_text_blocks():
    tree = body(
        f"""<body>
              <preamble guid="{H}"><p>Nosotros</p></preamble>
              <article guid="{G}"><heading>Agua</heading><p>Texto</p><paragraph/></article>
            </body>"""
    )
    assert plan_guid_repairs(tree) == [((1, 2), derived("missing:1/2"))]


def test_invalid_guid_is_repaired_like_a_missing_one():
    tree = body(f'<body><article guid="{G.upper()}"/><article guid="not-a-guid"/></body>')
    assert plan_guid_repairs(tree) == [((0,), derived("missing:0")), ((1,), derived("missing:1"))]


def test_repaired_document_has_unique_guids_and_needs_no_further_repair():
    tree = body(
        f"""<body>
              <article guid="{G}"><paragraph guid="{G}"/><paragraph/></article>
              <article guid="{G}"><point guid="INVALID"/></article>
            </body>"""
    )
    apply(tree, plan_guid_repairs(tree))
    guids = guids_in_order(tree)
    assert guids[0] == G
    assert all(is_valid_guid(g) for g in guids)
    assert len(set(guids)) == len(guids)
    assert plan_guid_repairs(tree) == []


def test_derived_guid_already_in_use_is_skipped():
    # G was duplicated once and repaired to G#1; later another copy of G appears.
    earlier_repair = derived(G + "#1")
    tree = body(
        f"""<body>
              <article guid="{G}"/><article guid="{earlier_repair}"/><article guid="{G}"/>
            </body>"""
    )
    assert plan_guid_repairs(tree) == [((2,), derived(G + "#2"))]


def test_units_anywhere_in_the_tree_are_repaired():
    # Even a unit under an element the model does not know keeps the GUIDs unique.
    tree = body(f'<body><article guid="{G}"/><invalid><article guid="{G}"/></invalid></body>')
    assert plan_guid_repairs(tree) == [((1, 0), derived(G + "#1"))]
