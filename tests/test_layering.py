"""The import graph of imperioApp/ keeps its layers: no cycles, services' wings import downwards.

Every module is parsed (imports inside functions included, relative imports resolved), so
a wrong edge fails here with its name before it becomes a tangle.
"""

import ast
import functools
import sys
from pathlib import Path

import pytest

from imperioApp import services

PACKAGE = "imperioApp"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE
ENTRY_LAYERS = ("api", "realtime", "web")


def module_name(path):
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def modules():
    """{module name: path} of every module under imperioApp/."""
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def imports_of(name, path, known):
    """[(imported module, line)] of one module: absolute names, inside functions too."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:
                # `from package import module` imports the module itself.
                submodule = f"{target}.{alias.name}"
                found.append((submodule if submodule in known else target, node.lineno))
    return found


@functools.cache
def graph():
    """{module: {imported imperioApp module: first line}}."""
    known = modules()
    edges = {}
    for name, path in known.items():
        targets = edges.setdefault(name, {})
        for target, line in imports_of(name, path, known):
            if target != name and (target == PACKAGE or target.startswith(PACKAGE + ".")):
                targets.setdefault(target, line)
    return edges


def cycles(edges):
    """Each import cycle once, as the list of its modules (Tarjan's strongly connected components)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(edges)))

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def layer(name):
    """The top-level part of imperioApp a module belongs to ('services', 'api', 'games', ...)."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def wing(name):
    """The services wing of a module, or None outside the wings."""
    parts = name.split(".")
    return parts[2] if len(parts) > 3 and parts[1] == "services" else None


WING_STEP = {name: step for step, peers in enumerate(services.WINGS) for name in peers}


def wrong_edges(edges):
    """Every edge breaking a layering rule, as 'module -> imported (file:line): why'."""
    problems = []
    for source, targets in sorted(edges.items()):
        for target, line in sorted(targets.items()):
            where = f"{source} -> {target} ({edges_file(source)}:{line})"
            source_layer, target_layer = layer(source), layer(target)
            source_wing, target_wing = wing(source), wing(target)
            if source_wing and target_wing and source_wing != target_wing:
                if WING_STEP[target_wing] >= WING_STEP[source_wing]:
                    problems.append(f"{where}: the {source_wing} wing may not import the {target_wing} wing")
            if source_layer == "services" and target_layer in ENTRY_LAYERS:
                problems.append(f"{where}: services may not import the {target_layer} layer")
            if source_layer in ENTRY_LAYERS and target_layer in ENTRY_LAYERS and source_layer != target_layer:
                problems.append(f"{where}: the {source_layer} layer may not import the {target_layer} layer")
        if layer(source) == "games":
            for target, line in sorted(targets.items()):
                if layer(target) != "games":
                    problems.append(
                        f"{source} -> {target} ({edges_file(source)}:{line}): the engines import only the standard library"
                    )
    return problems


def edges_file(name):
    return modules()[name].relative_to(ROOT.parent)


def test_every_module_of_services_is_in_a_declared_wing():
    declared = set(WING_STEP)
    present = {path.name for path in (ROOT / "services").iterdir() if path.is_dir() and (path / "__init__.py").exists()}
    assert present == declared, f"wings on disk {sorted(present)} vs services.WINGS {sorted(declared)}"
    loose = [path.name for path in (ROOT / "services").glob("*.py") if path.name != "__init__.py"]
    assert not loose, f"modules outside any wing: {loose}"


def test_no_module_imports_itself_back_through_a_cycle():
    found = cycles(graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(component) for component in found)


def test_every_import_goes_downwards():
    problems = wrong_edges(graph())
    assert not problems, "imports against the layering:\n" + "\n".join(problems)


def test_the_engines_import_only_the_standard_library():
    outside = []
    for name, path in modules().items():
        if layer(name) != "games":
            continue
        for target, line in imports_of(name, path, modules()):
            top = target.split(".")[0]
            if top != PACKAGE and top not in sys.stdlib_module_names:
                outside.append(f"{name} -> {target} ({path.relative_to(ROOT.parent)}:{line})")
    assert not outside, "engines importing beyond the standard library:\n" + "\n".join(outside)


@pytest.mark.parametrize(
    ("source", "target", "why"),
    [
        ("imperioApp.services.money.wallet", "imperioApp.services.rounds.play", "the money wing may not import the rounds wing"),
        ("imperioApp.services.protection.settings", "imperioApp.services.engagement.statistics", "may not import"),
        ("imperioApp.services.core.events", "imperioApp.api.errors", "services may not import the api layer"),
        ("imperioApp.realtime.chat", "imperioApp.web.pages", "the realtime layer may not import the web layer"),
        ("imperioApp.games.slots", "imperioApp.models", "the engines import only the standard library"),
    ],
)
def test_a_wrong_edge_is_named(source, target, why):
    edges = {name: dict(targets) for name, targets in graph().items()}
    edges[source][target] = 1
    problems = [problem for problem in wrong_edges(edges) if problem.startswith(f"{source} -> {target} ")]
    assert problems and why in problems[0], problems


def test_a_cycle_is_named():
    edges = {name: dict(targets) for name, targets in graph().items()}
    edges["imperioApp.services.core.errors"]["imperioApp.services.core.events"] = 1
    edges["imperioApp.services.core.events"]["imperioApp.services.core.errors"] = 1
    assert ["imperioApp.services.core.errors", "imperioApp.services.core.events"] in cycles(edges)
