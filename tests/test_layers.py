"""The layer contract holds (.importlinter, checked by `make lint` too) and nothing hides a missing module.

core ← audit, auth, orgs, catalogue, tasks, jobs ← workflows ← features ← app/__init__ / cli; the features
import one way (the order in .importlinter); no two modules of a package import each other.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.db_independent  # no test database: the SQLite pass only (Makefile)

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*ROOT.glob("app/**/*.py"), *ROOT.glob("workflows/**/*.py")])


def _lint_imports() -> Path | None:
    found = Path(sys.executable).parent / "lint-imports"
    return found if found.exists() else None


@pytest.mark.skipif(_lint_imports() is None, reason="import-linter is not installed (requirements-dev.txt)")
def test_the_import_contracts_are_kept():
    result = subprocess.run([str(_lint_imports()), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_the_contracts_name_every_layer():
    """A package left out of .importlinter would be checked by nothing: every app/ package is in a layer."""
    text = (ROOT / ".importlinter").read_text(encoding="utf-8")
    packages = {p.parent.name for p in ROOT.glob("app/*/__init__.py")}
    missing = sorted(name for name in packages if f"app.{name}" not in text)
    assert not missing, f"add to .importlinter: {missing}"


def test_no_import_error_is_swallowed():
    """A missing module is an error, never a silent fallback (`except ImportError` drops data unnoticed)."""
    offenders = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                names = [node.type] if not isinstance(node.type, ast.Tuple) else list(node.type.elts)
                if any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


# Files another branch (the engine's) is rewriting: their function-local imports are reviewed there.
ENGINE_OWNED = {"app/core/access.py", "app/deadlines/standins.py", "app/deadlines/notify.py"}


def _reviewed(path: Path) -> bool:
    rel = str(path.relative_to(ROOT))
    return rel.startswith("app/") and rel not in ENGINE_OWNED and not rel.startswith("app/tasks/")


def _local_imports_without_reason(path: Path) -> list[int]:
    lines = path.read_text(encoding="utf-8").split("\n")
    found = []
    for fn in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and not _explained(lines, node):
                    found.append(node.lineno)
    return found


def _explained(lines: list[str], node) -> bool:
    """A comment on the import's lines or in the block of imports and comments right above it."""
    if any("#" in line for line in lines[node.lineno - 1:node.end_lineno]):
        return True
    above = node.lineno - 2
    while above >= 0 and lines[above].strip().startswith(("from ", "import ", "#", ")")):
        if lines[above].strip().startswith("#"):
            return True
        above -= 1
    return False


def test_function_local_imports_say_why():
    paths = [p for p in SOURCES if _reviewed(p)]
    offenders = {str(p.relative_to(ROOT)): lines for p in paths if (lines := _local_imports_without_reason(p))}
    assert offenders == {}
