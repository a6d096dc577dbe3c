"""The rules of direction in design/architecture.md, made executable by walking every module's imports
and the core's names and string literals."""
from __future__ import annotations

import ast
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


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_dialect_uses_only_the_ledger_api_and_never_another_dialect(dialect: str) -> None:
    prefix = f"gateway.dialects.{dialect}"
    for name, path in MODULES.items():
        if not name.startswith(prefix):
            continue
        for imported in imports_of(path):
            if imported.startswith("gateway.ledger."):
                exported = imported.split(".")[2]
                import gateway.ledger as public

                assert exported in public.__all__ and not hasattr(getattr(public, exported), "__path__"), (
                    f"{name} reaches into {imported}; import it from gateway.ledger"
                )
                assert exported not in ("store", "repo", "core", "service"), f"{name} imports {imported}"
            others = [d for d in DIALECTS if d != dialect]
            assert not any(imported.startswith(f"gateway.dialects.{o}") for o in others), f"{name} imports {imported}"
            assert not imported.startswith(("sqlite3", "asyncpg", "gateway.app", "gateway.cli")), f"{name} imports {imported}"


def test_only_the_composition_root_knows_every_dialect() -> None:
    for name, path in MODULES.items():
        knows = {d for d in DIALECTS if any(i.startswith(f"gateway.dialects.{d}") for i in imports_of(path))}
        if len(knows) > 1:
            assert name == "gateway.app", f"{name} imports the dialects {sorted(knows)}"


def test_the_cli_knows_no_dialect_and_no_store() -> None:
    bad = [i for i in imports_of(MODULES["gateway.cli"]) if i.startswith(("gateway.dialects", "gateway.ledger.store", "sqlite3"))]
    assert not bad
