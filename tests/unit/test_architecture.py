"""The package's shape, measured from its own imports: the rules docs/architecture.md states.

Run ``python -m tests.unit.test_architecture`` to print the package graph and every finding.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "langchain_paramchat"

# Function-level imports of the package's own modules left, each with a reason just above it
# (a ``# lazy:`` comment). Everything else imports at the top; laziness lives in the
# ``__init__``s of packages (PEP 562 ``__getattr__``).
MAX_FUNCTION_LEVEL_IMPORTS = 2
MAX_PRIVATE_CROSSINGS = 0
MAX_MODULE_LINES = 650
# Modules over the limit today, with the most lines each may have until it is split.
OVERSIZED: dict[str, int] = {}


@dataclass(frozen=True)
class Import:
    """One import of the package's own code."""

    module: str
    target: str
    name: str | None
    line: int
    in_function: bool
    type_only: bool
    text: str


def modules() -> dict[str, Path]:
    """Map each module's dotted name to its file."""
    found: dict[str, Path] = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports() -> Iterator[Import]:
    """Yield every import of the package's own modules, with where it sits."""
    mods = modules()
    for module, path in mods.items():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        tree = ast.parse(source)
        yield from _walk(tree, module, mods, lines, in_function=False, type_only=False)


def _walk(
    node: ast.AST,
    module: str,
    mods: dict[str, Path],
    lines: list[str],
    *,
    in_function: bool,
    type_only: bool,
) -> Iterator[Import]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import):
            for alias in child.names:
                if alias.name.startswith(PACKAGE):
                    yield Import(
                        module,
                        _owner(alias.name, mods),
                        None,
                        child.lineno,
                        in_function,
                        type_only,
                        lines[child.lineno - 1],
                    )
        elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
            if not child.module.startswith(PACKAGE):
                continue
            for alias in child.names:
                full = f"{child.module}.{alias.name}"
                target = full if full in mods else _owner(child.module, mods)
                yield Import(
                    module,
                    target,
                    alias.name,
                    child.lineno,
                    in_function,
                    type_only,
                    lines[child.lineno - 1],
                )
        else:
            yield from _walk(
                child,
                module,
                mods,
                lines,
                in_function=in_function
                or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda),
                type_only=type_only
                or (isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)),
            )


def _owner(dotted: str, mods: dict[str, Path]) -> str:
    while dotted not in mods and "." in dotted:
        dotted = dotted.rsplit(".", 1)[0]
    return dotted


def package_of(module: str) -> str:
    """Return the top-level unit a module belongs to: its subpackage, or itself at the root."""
    parts = module.split(".")
    return ".".join(parts[:2])


def package_graph() -> dict[str, set[str]]:
    """Return package → packages it imports (lazy imports count; TYPE_CHECKING ones do not)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in imports():
        a, b = package_of(imp.module), package_of(imp.target)
        if a != b and not imp.type_only:
            graph[a].add(b)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected groups of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def function_level() -> list[Import]:
    """Return imports of the package's own modules made inside functions."""
    seen: dict[tuple[str, int], Import] = {}
    for i in imports():
        if i.in_function and not i.type_only:
            seen.setdefault((i.module, i.line), i)
    return list(seen.values())


def private_crossings() -> list[Import]:
    """Return underscored names imported from another module of the package."""
    return [
        i for i in imports() if i.name and i.name.startswith("_") and not i.name.startswith("__")
    ]


def test_no_import_circles_between_packages() -> None:
    assert cycles(package_graph()) == []


def test_function_level_imports_are_few_and_explained() -> None:
    found = function_level()
    assert len(found) <= MAX_FUNCTION_LEVEL_IMPORTS, [f"{i.module}:{i.line}" for i in found]
    mods = modules()
    unexplained = [
        f"{i.module}:{i.line}"
        for i in found
        if "# lazy:" not in i.text
        and "# lazy:" not in mods[i.module].read_text(encoding="utf-8").splitlines()[i.line - 2]
    ]
    assert unexplained == []


def test_no_private_name_crosses_a_module_border() -> None:
    found = private_crossings()
    assert len(found) <= MAX_PRIVATE_CROSSINGS, [f"{i.module} ← {i.target}.{i.name}" for i in found]


def test_no_module_is_oversized() -> None:
    big = {
        name: n
        for name, path in modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines()))
        > OVERSIZED.get(name, MAX_MODULE_LINES)
    }
    assert big == {}


def test_every_package_says_what_it_owns_and_may_import() -> None:
    missing = [
        name
        for name, path in modules().items()
        if path.name == "__init__.py"
        and name != PACKAGE
        and "May import" not in (ast.get_docstring(ast.parse(path.read_text())) or "")
    ]
    assert missing == []


def main() -> None:
    """Print the package graph, its circles and every finding the tests above count."""
    graph = package_graph()
    for package in sorted(set(graph) | {package_of(m) for m in modules()}):
        print(f"{package} → {', '.join(sorted(graph.get(package, ()))) or '(nothing)'}")
    print("circles:", cycles(graph) or "none")
    found = function_level()
    print(f"function-level imports of own modules: {len(found)}")
    for i in found:
        print(f"  {i.module}:{i.line}  {i.text.strip()}")
    crossing = private_crossings()
    print(f"private names crossing a module border: {len(crossing)}")
    for i in crossing:
        print(f"  {i.module} ← {i.target}.{i.name}")


if __name__ == "__main__":
    sys.exit(main())
