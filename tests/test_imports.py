"""The package's imports form no cycle: neither among module-level imports nor once the imports inside
functions are counted, so no function-level import exists to dodge one. Read with ast, nothing imported."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import subtok

PACKAGE = Path(subtok.__file__).resolve().parent
EXTENSIONS = {"subtok._native"}  # compiled modules (setup.py): imported, importing nothing of subtok


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def internal_imports(path: Path, modules: set[str]) -> list[tuple[str, bool]]:
    """(imported subtok module, whether the import is at module level) for each import of ``path``;
    imports under ``if TYPE_CHECKING`` never run and are left out."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((a.name, top) for a in child.names if a.name in modules)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join(anchor + ([child.module] if child.module else []))
                for alias in child.names:  # "from pkg import sub" imports the submodule
                    sub = f"{base}.{alias.name}"
                    target = sub if sub in modules else base
                    if target in modules:
                        found.append((target, top))
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), True)
    return found


def graph(with_functions: bool) -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in files} | EXTENSIONS
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for path in files:
        for target, top in internal_imports(path, modules):
            if (top or with_functions) and target != module_name(path):
                edges[module_name(path)].add(target)
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph as a path that returns to its start, or [] when there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                cycle = walk(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return []

    for start in sorted(edges):
        if start not in state:
            cycle = walk(start)
            if cycle:
                return cycle
    return []


def test_module_level_imports_have_no_cycle():
    assert find_cycle(graph(with_functions=False)) == []


def test_no_function_level_import_dodges_a_cycle():
    assert find_cycle(graph(with_functions=True)) == []


def test_the_checker_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []
    here = {"subtok.tokenizer", "subtok.models", "subtok.models.bpe", "subtok"}
    found = internal_imports(PACKAGE / "tokenizer.py", here)
    assert ("subtok.models", True) in found


def test_the_backend_module_is_near_the_bottom():
    """_backend imports nothing of subtok but the character facts in text (which needs only the errors and
    the generated character data)."""
    edges = graph(with_functions=True)
    assert edges["subtok._backend"] == {"subtok.text", "subtok._native"}
    data = {"subtok._unicode_data", "subtok._unicode_case", "subtok._char_classes_data"}
    assert edges["subtok.text"] == {"subtok.errors", *data}
    assert edges["subtok.errors"] == set() and all(edges[module] == set() for module in data)


def test_import_leaves_out_what_encoding_does_not_need():
    """``import subtok`` in a fresh process loads neither hashlib (OpenSSL's library: 3.5 MB, for dataset
    checksums) nor importlib.metadata (for ``__version__``): both come when first used, and still work."""
    code = (
        "import sys, subtok; print(sorted(m for m in ('hashlib', 'importlib.metadata') if m in sys.modules)); "
        "print(subtok.__version__ == __import__('importlib.metadata').metadata.version('subtok'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["[]", "True"]
