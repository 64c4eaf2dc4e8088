"""The house rules, read from the imports: no cycles, arrows that point down, adapters side by side.

Every module of `lifeline/` (and the protocol package) is parsed with `ast`; every import counts,
at the top, inside a function or under TYPE_CHECKING, relative ones resolved. docs/development.md
draws the same map in words.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).parent.parent
APPLIANCE = "lifeline"
PROTOCOL = "lifeline_protocol"
CLIENT = "lifeline_client"  # the program on the customer's computer (client/): never the appliance

# Floors, lowest first (docs/development.md, "The house: a map"): a package imports only from its
# own floor or below. Packages on one floor may use each other as long as no cycle forms.
FLOORS: tuple[frozenset[str], ...] = (
    frozenset({"__init__", "text", "config", "db", "bus", "limits", "jobs", "heap"}),
    frozenset({"appliance"}),
    frozenset({"directory"}),
    frozenset({"bootstrap"}),  # first start: the appliance's identity, its first site and admin
    frozenset({"presence"}),
    frozenset({"sessions", "clientscript"}),
    frozenset({"surveys", "recordings", "reports", "backup", "jump", "clients", "failover"}),
    frozenset({"runtime"}),
    frozenset({"http"}),
    frozenset({"api", "web", "realtime"}),
    frozenset({"app", "listeners", "server", "cli", "__main__"}),
)
DOMAINS = frozenset(
    {"directory", "sessions", "presence", "recordings", "reports", "surveys", "backup", "appliance", "jump", "clients"}
)
ADAPTERS = frozenset({"api", "web", "realtime"})
# What a domain never reaches for: the adapters, their shared floor, and the libraries of HTTP, XML and pages.
NOT_FOR_DOMAINS = ADAPTERS | {"http"}
WEB_LIBRARIES = frozenset({"starlette", "uvicorn", "lxml", "jinja2"})
# Adapter imports known to be on their way out (none now). Each must still be there: once it is
# gone, the test fails until it leaves this list too.
PENDING: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    line: int
    target: str  # the imported module, as precisely as it exists (a module, else its package)

    def __str__(self) -> str:
        return f"{self.source}:{self.line} imports {self.target}"


def _module_name(path: Path, base: Path) -> str:
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules(package: str) -> dict[str, Path]:
    base = ROOT / "protocol" if package == PROTOCOL else ROOT
    return {_module_name(path, base): path for path in sorted((base / package).rglob("*.py"))}


def _known(name: str) -> bool:
    return name in _modules(APPLIANCE) or name in _modules(PROTOCOL)


def _most_precise(name: str) -> str:
    """The longest prefix of a dotted name that is one of our modules (or the name itself, for a library)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if _known(".".join(parts[:end])):
            return ".".join(parts[:end])
    return name


def imports_of(module: str, path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, node.lineno, _most_precise(alias.name))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            for alias in node.names:
                # `from package import module` imports the module; `from module import name` the module.
                yield Import(module, node.lineno, _most_precise(f"{base}.{alias.name}"))


@cache
def all_imports() -> tuple[Import, ...]:
    found: dict[Import, None] = {}  # several names from one module are one import
    for package in (APPLIANCE, PROTOCOL):
        for module, path in _modules(package).items():
            found.update(dict.fromkeys(imports_of(module, path)))
    return tuple(found)


def top(module: str) -> str:
    """The top-level package (or module) of lifeline a module belongs to: `api` for lifeline.api.command."""
    parts = module.split(".")
    if parts == [APPLIANCE]:
        return "__init__"
    return parts[1] if parts[0] == APPLIANCE else parts[0]


def ours(name: str) -> bool:
    return name.split(".")[0] == APPLIANCE


def _cycles(edges: dict[str, dict[str, Import]]) -> list[list[Import]]:
    """One cycle (as the imports that make it) per strongly connected group of more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan; the graphs are a few hundred nodes, recursion is fine
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for after in edges.get(node, {}):
            if after not in index:
                visit(after)
                low[node] = min(low[node], low[after])
            elif after in on_stack:
                low[node] = min(low[node], index[after])
        if low[node] == index[node]:
            group: set[str] = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return [_one_cycle(group, edges) for group in groups]


def _one_cycle(group: set[str], edges: dict[str, dict[str, Import]]) -> list[Import]:
    """A shortest way round from the group's first node back to itself, as the imports taken."""
    start = min(group)
    came_by: dict[str, tuple[str, Import]] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for after, imported in sorted(edges.get(node, {}).items()):
                if after == start:
                    path = [imported]
                    while node != start:
                        node, step = came_by[node]
                        path.insert(0, step)
                    return path
                if after in group and after not in came_by:
                    came_by[after] = (node, imported)
                    following.append(after)
        frontier = following
    raise AssertionError(f"no way round {sorted(group)}")


def _explain(cycles: list[list[Import]]) -> str:
    return "\n".join(" -> ".join(str(step) for step in cycle) for cycle in cycles)


def test_no_module_imports_another_that_imports_it_back() -> None:
    edges: dict[str, dict[str, Import]] = {}
    for imported in all_imports():
        if imported.target != imported.source and _known(imported.target):
            edges.setdefault(imported.source, {}).setdefault(imported.target, imported)
    cycles = _cycles(edges)
    assert cycles == [], "import cycles between modules:\n" + _explain(cycles)


def test_no_top_level_package_imports_another_that_imports_it_back() -> None:
    edges: dict[str, dict[str, Import]] = {}
    for imported in all_imports():
        if ours(imported.source) and ours(imported.target) and top(imported.source) != top(imported.target):
            edges.setdefault(top(imported.source), {}).setdefault(top(imported.target), imported)
    cycles = _cycles(edges)
    assert cycles == [], "import cycles between packages of lifeline:\n" + _explain(cycles)


def _floor(package: str) -> int:
    for number, floor in enumerate(FLOORS):
        if package in floor:
            return number
    raise AssertionError(f"lifeline/{package} has no floor: add it to FLOORS and to docs/development.md's map")


def test_every_import_points_down_the_floors() -> None:
    upward = [
        imported
        for imported in all_imports()
        if ours(imported.source)
        and ours(imported.target)
        and _floor(top(imported.target)) > _floor(top(imported.source))
    ]
    assert upward == [], "imports that point up a floor:\n" + "\n".join(map(str, upward))


def test_no_domain_knows_about_http_xml_or_pages() -> None:
    wrong = [
        imported
        for imported in all_imports()
        if ours(imported.source)
        and top(imported.source) in DOMAINS
        and (
            (ours(imported.target) and top(imported.target) in NOT_FOR_DOMAINS)
            or imported.target.split(".")[0] in WEB_LIBRARIES
        )
    ]
    assert wrong == [], "domain modules importing an adapter or a web library:\n" + "\n".join(map(str, wrong))


def test_the_adapters_stand_side_by_side() -> None:
    """api, web and realtime share only http/; app.py, server.py and the cli wire them together."""
    borrowed = [
        imported
        for imported in all_imports()
        if ours(imported.source)
        and ours(imported.target)
        and top(imported.source) in ADAPTERS | {"http"}
        and top(imported.target) in ADAPTERS
        and top(imported.target) != top(imported.source)
    ]
    pending = [imported for imported in borrowed if (imported.source, imported.target) in PENDING]
    assert {(imported.source, imported.target) for imported in pending} == PENDING, "remove what is gone from PENDING"
    borrowed = [imported for imported in borrowed if imported not in pending]
    assert borrowed == [], "adapters importing each other:\n" + "\n".join(map(str, borrowed))


def test_the_protocol_package_stands_alone() -> None:
    """Client programs install lifeline_protocol without the appliance."""
    leaning = [imported for imported in all_imports() if top(imported.source) == PROTOCOL and ours(imported.target)]
    assert leaning == [], "the protocol importing the appliance:\n" + "\n".join(map(str, leaning))


def test_the_client_program_stands_apart_from_the_appliance() -> None:
    """The Lifeline client installs on customers' computers with the protocol package alone."""
    base = ROOT / "client"
    modules = {_module_name(path, base): path for path in sorted((base / CLIENT).rglob("*.py"))}
    assert modules, "client/lifeline_client holds no modules"
    leaning = [
        imported for module, path in modules.items() for imported in imports_of(module, path) if ours(imported.target)
    ]
    assert leaning == [], "the client program importing the appliance:\n" + "\n".join(map(str, leaning))


def test_the_rules_see_every_kind_of_import(tmp_path: Path) -> None:
    """A guard on the guard: imports inside functions, under TYPE_CHECKING and relative ones are found."""
    sample = tmp_path / "actions.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from lifeline.web import pages\n"
        "def later():\n"
        "    import lifeline.api.errors\n"
        "from . import archive\n"
        "from ..directory.models import User\n"
    )
    found = {(i.line, i.target) for i in imports_of("lifeline.backup.actions", sample)}
    assert {(3, "lifeline.web.pages"), (5, "lifeline.api.errors"), (6, "lifeline.backup.archive")} <= found
    assert (7, "lifeline.directory.models") in found
