"""The rules of direction in design/architecture.md, made executable by walking every module's imports
and the core's names and string literals."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gateway"
DIALECTS = ("imonggo", "pomelo", "memberpoints")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Absolute names of everything a module imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            found.add(prefix)
            found.update(f"{prefix}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def test_the_walk_sees_the_package() -> None:
    assert "gateway.ledger.service" in MODULES and "gateway.app" in MODULES


@pytest.mark.parametrize("name", [m for m in MODULES if m.startswith("gateway.ledger")])
def test_the_ledger_imports_no_transport_no_xml_and_no_dialect(name: str) -> None:
    banned = ("aiohttp", "lxml", "jsonschema", "gateway.dialects", "gateway.app", "gateway.admin",
              "gateway.delivery", "gateway.keys", "gateway.settings", "gateway.cli", "gateway.scenario")
    bad = sorted(i for i in imports_of(MODULES[name]) if i.startswith(banned))
    assert not bad, f"{name} imports {bad}"


VENDOR_WORDS = ("imonggo", "pomelo", "memberpoints", "mbr_", "pagesize", "customer_id", "points-spent",
                "available_points", "idempotency-key", "x-api-key", "http", "xml", "webhook", "invoice")


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


@pytest.mark.parametrize("name", [m for m in MODULES if m.startswith("gateway.ledger")])
def test_the_ledger_speaks_no_vendor_words(name: str) -> None:
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    words = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            words.append(node.value)
        elif isinstance(node, ast.Name):
            words.append(node.id)
        elif isinstance(node, ast.Attribute):
            words.append(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            words.append(node.name)
        elif isinstance(node, ast.arg):
            words.append(node.arg)
    hits = sorted({w for w in words for v in VENDOR_WORDS if v in w.lower()})
    assert not hits, f"{name} uses vendor or transport words: {hits}"


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module a `from ... import` statement reads from."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def reaches_past_the_ledger_api(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """Every import in a module outside gateway.ledger that takes more than gateway.ledger's public API:
    a submodule by any spelling (`import gateway.ledger.x`, `from gateway.ledger.x import y`, `from
    ...ledger.x import y`, `from gateway.ledger import x` where x is no exported name), a name the
    package does not list in __all__, or a star import nobody can check."""
    import gateway.ledger as public

    bad = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            bad += [f"import {a.name}" for a in node.names if a.name.startswith("gateway.ledger.")]
        elif isinstance(node, ast.ImportFrom):
            origin = _absolute(node, module, is_package)
            if origin.startswith("gateway.ledger."):
                bad.append(f"from {origin} import {', '.join(a.name for a in node.names)}")
            elif origin == "gateway.ledger":
                bad += [f"from gateway.ledger import {a.name}" for a in node.names if a.name not in public.__all__]
    return bad


OUTSIDE_THE_LEDGER = [m for m in MODULES if not m.startswith("gateway.ledger")]


@pytest.mark.parametrize("name", OUTSIDE_THE_LEDGER)
def test_code_outside_the_ledger_imports_only_its_public_names(name: str) -> None:
    path = MODULES[name]
    found = reaches_past_the_ledger_api(path.read_text(encoding="utf-8"), name, is_package=path.name == "__init__.py")
    assert not found, f"{name} reaches past gateway.ledger's __all__: {found}"


@pytest.mark.parametrize(
    "source",
    [
        "from gateway.ledger import movements",
        "from gateway.ledger import InvalidArgument, store",
        "from ...ledger import repo",
        "import gateway.ledger.movements",
        "import gateway.ledger.store.sqlite as sqlite",
        "from gateway.ledger.movements import Movement",
        "from ...ledger.movements import Movement",
        "from ...ledger.errors import InvalidArgument",
        "from ...ledger.store import open_store",
        "from gateway.ledger import *",
        "from gateway.ledger import annotations",
        "def later():\n    from ...ledger.service import Ledger\n",
    ],
)
def test_the_import_rule_catches_every_way_past_the_public_api(source: str) -> None:
    assert reaches_past_the_ledger_api(source, "gateway.dialects.pomelo.wire") != []


@pytest.mark.parametrize(
    "source",
    ["from ...ledger import InvalidArgument, Member", "from gateway.ledger import Ledger as Book",
     "import gateway.ledger", "from gateway import ledger", "from ... import ledger"],
)
def test_the_import_rule_lets_the_public_api_through(source: str) -> None:
    assert reaches_past_the_ledger_api(source, "gateway.dialects.pomelo.wire") == []


def test_the_ledger_exports_exactly_what_its_init_imports_and_no_module() -> None:
    import types

    import gateway.ledger as public

    init = ast.parse(MODULES["gateway.ledger"].read_text(encoding="utf-8"))
    imported = {a.asname or a.name for node in init.body if isinstance(node, ast.ImportFrom)
                and node.module != "__future__" for a in node.names}
    assert sorted(public.__all__) == sorted(imported) and len(set(public.__all__)) == len(public.__all__)
    assert not [n for n in public.__all__ if isinstance(getattr(public, n), types.ModuleType)]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_dialect_never_imports_another_dialect_the_store_or_the_app(dialect: str) -> None:
    prefix = f"gateway.dialects.{dialect}"
    modules = [name for name in MODULES if name.startswith(prefix)]
    assert len(modules) > 3
    others = tuple(f"gateway.dialects.{d}" for d in DIALECTS if d != dialect)
    for name in modules:
        for imported in imports_of(MODULES[name]):
            assert not imported.startswith(others), f"{name} imports {imported}"
            assert not imported.startswith(("sqlite3", "asyncpg", "gateway.app", "gateway.cli")), f"{name} imports {imported}"


def test_only_the_composition_root_knows_every_dialect() -> None:
    for name, path in MODULES.items():
        knows = {d for d in DIALECTS if any(i.startswith(f"gateway.dialects.{d}") for i in imports_of(path))}
        if len(knows) > 1:
            assert name == "gateway.app", f"{name} imports the dialects {sorted(knows)}"


def test_the_cli_knows_no_dialect_and_no_store() -> None:
    bad = [i for i in imports_of(MODULES["gateway.cli"]) if i.startswith(("gateway.dialects", "gateway.ledger.store", "sqlite3"))]
    assert not bad


TOP_PACKAGES = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())


def package_imports() -> dict[str, dict[str, list[str]]]:
    """{package: {package it imports: [which module imports what]}} among gateway's top-level packages."""
    found: dict[str, dict[str, list[str]]] = {p: {} for p in TOP_PACKAGES}
    for name, path in MODULES.items():
        parts = name.split(".")
        if len(parts) < 2 or parts[1] not in found:
            continue
        for imported in sorted(imports_of(path)):
            other = imported.split(".")
            if len(other) > 1 and other[0] == "gateway" and other[1] in found and other[1] != parts[1]:
                found[parts[1]].setdefault(other[1], []).append(f"{name} imports {imported}")
    return found


def cycle_in(edges: dict[str, dict[str, list[str]]]) -> list[str] | None:
    """One cycle of packages (first package repeated at the end), or None."""
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(edges.get(node, {})):
            if state.get(nxt) == "open":
                return trail[trail.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, trail + [nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(edges):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle() -> None:
    assert cycle_in({"a": {"b": []}, "b": {"c": []}, "c": {"a": []}}) == ["a", "b", "c", "a"]
    assert cycle_in({"a": {"b": [], "c": []}, "b": {"c": []}, "c": {}}) is None


def test_gateways_packages_import_each_other_one_way_only() -> None:
    """A package that imports one importing it back cannot be read (or tested, or moved) on its own, and
    the order its modules load in decides whether the process starts."""
    assert {"dialects", "ledger", "sandbox", "upstream"} <= set(TOP_PACKAGES)
    edges = package_imports()
    cycle = cycle_in(edges)
    assert cycle is None, "gateway's packages import each other in a circle: " + " -> ".join(cycle) + "\n" + "\n".join(
        line for a, b in zip(cycle, cycle[1:]) for line in edges[a][b])


# -- one place per vendor ------------------------------------------------------------------------------
# A vendor's name, in any case, in any token of a module outside gateway/dialects/ (names, strings,
# docstrings and comments alike: a comment naming a vendor is vendor knowledge that has leaked, and
# the next edit tends to follow it), except in gateway/app.py, the composition root that lists them.
VENDOR_NAMES = re.compile(r"imonggo|pomelo|memberpoints", re.IGNORECASE)
WHERE_VENDORS_LIVE = "gateway.dialects"
COMPOSITION_ROOT = "gateway.app"


def vendor_words_in(source: str) -> list[str]:
    """Every token of a module's source (comments included) that names a vendor."""
    import io
    import tokenize

    # Python 3.12 splits an f-string into parts; before, it is one STRING token.
    kinds = {tokenize.NAME, tokenize.STRING, tokenize.COMMENT, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    return [tok.string for tok in tokenize.generate_tokens(io.StringIO(source).readline)
            if tok.type in kinds and VENDOR_NAMES.search(tok.string)]


OUTSIDE_THE_DIALECTS = [m for m in MODULES if not m.startswith(WHERE_VENDORS_LIVE) and m != COMPOSITION_ROOT]


@pytest.mark.parametrize("name", OUTSIDE_THE_DIALECTS)
def test_no_vendor_word_lives_outside_the_dialects(name: str) -> None:
    found = vendor_words_in(MODULES[name].read_text(encoding="utf-8"))
    assert not found, f"{name} names a vendor (move it into gateway/dialects/<vendor>/): {found}"


@pytest.mark.parametrize("line", [
    'PREFIXES = (("/api/", "imonggo"),)', "if dialect == 'Pomelo':", "# see the MemberPoints docs",
    'x = f"{tenant.section(\'pomelo\')}"', "def imonggo_key(): pass",
])
def test_the_vendor_rule_catches_a_vendor_word_put_back(line: str) -> None:
    clean = MODULES["gateway.sandbox.pipeline"].read_text(encoding="utf-8")
    assert vendor_words_in(clean) == []
    assert vendor_words_in(clean + "\n" + line + "\n") != []
