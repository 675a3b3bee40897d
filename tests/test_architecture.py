"""The house's rules, read from the imports of every module of crdt/, akoma_ntoso/ and editor/.

* crdt/ and akoma_ntoso/ are libraries: they never import the application (editor), not even
  inside a function.
* No circle: no module imports a module that imports it back, directly or through others,
  counting the imports inside functions too (they hide a circle from Python, not from a reader).
* A feature package (amendments, comments, petitions, provenance, review, revision, stages, survey) uses another feature's
  domain modules (models, services), never its web layer (views, api, command line) or its event
  handlers: those belong to the feature, and are wired by the app factory.
* No import inside a function body without a comment saying why (on its line or the line above):
  such an import hides a dependency from whoever reads the module's head.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("editor", "crdt", "akoma_ntoso")
FEATURES = {"amendments", "comments", "participation", "petitions", "process", "provenance", "review", "revision",
            "stages", "survey"}
#: A feature's modules that no other feature may import.
PRIVATE = ("api", "views", "cli", "handlers")


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _exists(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def _imports() -> list[tuple[str, str, bool, str]]:
    """(importer, imported module, inside a function?, where) for every import of our packages."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = _module(path)
            tree = ast.parse(path.read_text(encoding="utf-8"))

            def visit(node, in_function: bool, module: str = module, path: Path = path) -> None:
                for child in ast.iter_child_nodes(node):
                    if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                        continue  # for type checkers only: never imported at run time
                    inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
                    targets: list[str] = []
                    if isinstance(child, ast.Import):
                        targets = [alias.name for alias in child.names]
                    elif isinstance(child, ast.ImportFrom):
                        if child.level:
                            base = module.split(".")
                            if path.name != "__init__.py":
                                base = base[:-1]
                            base = base[: len(base) - (child.level - 1)]
                            source = ".".join(base + ([child.module] if child.module else []))
                        else:
                            source = child.module or ""
                        submodules = [f"{source}.{a.name}" for a in child.names if _exists(f"{source}.{a.name}")]
                        # `from . import audit` imports the submodule; the package itself is
                        # already imported (Python imports parents first), so it is no edge.
                        named_only_submodules = len(submodules) == len(child.names)
                        targets = submodules if named_only_submodules else [source, *submodules]
                    for target in targets:
                        if target.split(".")[0] in PACKAGES:
                            found.append((module, target, in_function, f"{path.relative_to(ROOT)}:{child.lineno}"))
                    visit(child, inside, module, path)

            visit(tree, False)
    return found


IMPORTS = _imports()


def test_the_libraries_never_import_the_application():
    offending = [where for importer, target, _, where in IMPORTS
                 if importer.split(".")[0] in ("crdt", "akoma_ntoso") and target.split(".")[0] == "editor"]
    assert not offending


def test_no_module_imports_itself_back():
    graph: dict[str, set[str]] = defaultdict(set)
    for importer, target, _, _ in IMPORTS:
        if target != importer:
            graph[importer].add(target)
    circles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                circles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                walk(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node, [node])
    assert not circles, "\n".join(" -> ".join(c) for c in circles)


def _feature(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) >= 2 and parts[0] == "editor" and parts[1] in FEATURES else None


def test_features_use_each_others_domain_modules_never_their_web_layer_or_handlers():
    offending = []
    for importer, target, _, where in IMPORTS:
        mine, theirs = _feature(importer), _feature(target)
        if mine and theirs and mine != theirs and target.split(".")[-1] in PRIVATE:
            offending.append(f"{where}: {importer} imports {target}")
    assert not offending, "\n".join(offending)


def test_an_import_inside_a_function_says_why():
    unexplained = []
    for where in sorted({where for _, _, in_function, where in IMPORTS if in_function}):
        path, line = where.rsplit(":", 1)
        lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
        number = int(line)
        if "#" not in lines[number - 1] and not lines[number - 2].strip().startswith("#"):
            unexplained.append(where)
    assert not unexplained, "imports inside functions without a comment saying why:\n" + "\n".join(unexplained)


def test_the_rules_see_the_imports_they_are_about():
    """The reader is not blind: it sees the known edges (so the rules above can fail)."""
    edges = {(importer, target) for importer, target, _, _ in IMPORTS}
    assert ("editor.review.handlers", "editor.review.service") in edges
    assert ("editor.amendments.service", "editor.events") in edges
    assert ("crdt.rooms", "crdt.room") in edges
    assert ("editor.cli", "editor.app") in edges
