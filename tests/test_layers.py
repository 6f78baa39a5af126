"""The package's layers, as the development guide states them: each layer imports only from the
layers above it and from the shared modules, and no module imports itself back through others
(imports inside functions count too)."""

import ast
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "scripts" / "lenspipe"
LAYERS = ("simulation", "data", "learning", "evaluation", "baselines", "refinement", "runs")
"""Top to bottom, as workflow/docs/development.md lists them."""
SHARED_THAT_IMPORT_LAYERS = {"config", "settings", "config_reference", "__main__"}
"""The shared modules the guide names as importing from a layer (validation, the typed
settings, the generated reference, the command line)."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every lenspipe module and the lenspipe modules it imports, anywhere in its code."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lenspipe"):
                names = [f"{node.module}.{alias.name}" for alias in node.names]
                # `from lenspipe import seeding` imports the module lenspipe.seeding.
                imported |= {
                    n
                    for n in names
                    if (PACKAGE.parent / n.replace(".", "/")).with_suffix(".py").exists()
                }
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names if a.name.startswith("lenspipe")}
        found[_module_name(path)] = imported - {"lenspipe"}
    return found


def _layer(module: str) -> str | None:
    """The layer of ``module`` (None for a shared module at the package's top)."""
    part = module.split(".")[1] if "." in module else None
    return part if part in LAYERS else None


def test_each_layer_imports_only_from_layers_above_and_shared_modules():
    wrong = []
    for module, imported in _imports().items():
        layer = _layer(module)
        for target in imported:
            target_layer = _layer(target)
            if target_layer is None:
                continue
            if layer is None:
                allowed = (
                    module.split(".")[-1] in SHARED_THAT_IMPORT_LAYERS or module == "lenspipe"
                )
            else:
                allowed = LAYERS.index(target_layer) <= LAYERS.index(layer)
            if not allowed:
                wrong.append(f"{module} imports {target}")
    assert not wrong, wrong


def test_no_module_imports_itself_back_through_others():
    graph = _imports()
    state: dict[str, int] = {}
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycles.append(path[path.index(target) :] + [target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, cycles


def test_the_checks_see_the_imports_they_judge():
    # Without this the two checks above would pass on an empty graph.
    assert "lenspipe.data.dataset" in _imports()["lenspipe.learning.train"]
    assert _layer("lenspipe.learning.train") == "learning" and _layer("lenspipe.atomic") is None
