"""Import rules: nothing outside tests/ imports tests; functions never imports the host or Selenium."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = {".venv", "node_modules", ".git", "var"}
RULES = {
    "*": ("tests",),
    "functions": ("session_host", "selenium", "undetected_chromedriver"),
}


def imported(path: Path) -> set[str]:
    """Return the top-level package of every absolute import in a Python file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def violations(root: Path) -> list[str]:
    """Return `file imports package` for every import that breaks a rule."""
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if SKIP.intersection(parts) or parts[0] == "tests":
            continue
        forbidden = set(RULES["*"]) | set(RULES.get(parts[0], ()))
        found.extend(f"{'/'.join(parts)} imports {name}" for name in sorted(imported(path) & forbidden))
    return found


def test_the_source_tree_keeps_the_import_rules() -> None:
    assert violations(ROOT) == []


def test_the_checker_finds_each_broken_rule(tmp_path: Path) -> None:
    # given a tiny tree breaking each rule once, and a test file that may import tests
    files = {
        "bench/run.py": "from tests.support import processes\n",
        "functions/app.py": "import session_host.jobs\nfrom selenium import webdriver\n",
        "functions/ok.py": "from contract import jobs\nfrom . import app\n",
        "tests/test_x.py": "import tests.support\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)

    assert violations(tmp_path) == [
        "bench/run.py imports tests",
        "functions/app.py imports selenium",
        "functions/app.py imports session_host",
    ]
