"""The README's pytest plugin section runs as written: every ```python block in it is a complete test file
(its first line names the file), written into an integrator project and run with pytester; each of its test
functions must pass. Read from README.md itself, so the README and the plugin cannot drift apart."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "## In your own tests: the pytest plugin"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)
FILE_LINE = re.compile(r"# (test_\w+\.py)\n")


def section(text: str) -> str:
    start = text.index("\n" + HEADING + "\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else len(text)]


def examples(text: str) -> dict[str, str]:
    """{file name: source} of the section's python blocks."""
    found = {}
    for block in BLOCK.findall(section(text)):
        named = FILE_LINE.match(block)
        assert named, f"a python block in the README's plugin section does not start with '# test_NAME.py':\n{block}"
        assert named.group(1) not in found, f"two README examples are named {named.group(1)}"
        found[named.group(1)] = block
    return found


def count_tests(source: str) -> int:
    return sum(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test")
               for node in ast.parse(source).body)


def test_every_python_example_in_the_readme_section_passes(integrator: pytest.Pytester) -> None:
    found = examples(README.read_text(encoding="utf-8"))
    assert {"test_imonggo.py", "test_memberpoints.py", "test_pomelo.py"} <= set(found)  # one per dialect at least
    for name, source in found.items():
        (integrator.path / name).write_text(source, encoding="utf-8")
    result = integrator.runpytest()
    result.assert_outcomes(passed=sum(count_tests(source) for source in found.values()))


def test_the_extraction_finds_blocks_and_refuses_an_unnamed_one() -> None:
    text = f"# x\n\n{HEADING}\n\n```python\n# test_a.py\ndef test_a():\n    pass\n```\n\n## Settings\n"
    assert examples(text) == {"test_a.py": "# test_a.py\ndef test_a():\n    pass\n"}
    assert count_tests(examples(text)["test_a.py"]) == 1
    with pytest.raises(AssertionError, match="does not start with"):
        examples(text.replace("# test_a.py\n", ""))
    with pytest.raises(ValueError):
        examples(text.replace(HEADING, "## Elsewhere"))
