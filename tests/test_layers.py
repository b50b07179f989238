"""The layers of ``toytls/`` hold to their rules (docs/architecture.md).

Every module is read as a syntax tree, so a rule cannot be dodged by an
import that no test happens to run:

- arrows run one way: each layer imports only the layers its package
  docstring names (``ALLOWED``);
- the core imports no I/O module and never opens a file;
- nothing outside ``toytls/cli/`` prints or reads the terminal;
- the pure layers, imported in a fresh interpreter, bring in no event loop
  (``cryptography`` itself imports ``socket`` and ``time``, so the syntax
  check is what proves the core does not; this one proves nothing drags trio
  in behind its back).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import toytls

PACKAGE = Path(toytls.__file__).parent
LAYERS = ("core", "pki", "attacker", "streams", "web", "story", "cli")
#: layer -> the toytls layers it may import ("" is the package root)
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "pki": {"pki", "core"},
    "attacker": {"attacker", "core", "pki"},
    "story": {"story", "core"},
    "streams": {"streams", "core", "pki"},
    "web": {"web", "core", "streams", "story"},
    "cli": {"", *LAYERS},
    "": {"core", "streams"},
}
IO_MODULES = {"trio", "socket", "time", "selectors", "asyncio", "anyio", "ssl", "subprocess"}
LOOPS = ["trio", "asyncio", "anyio"]
PURE_LAYERS = ("core", "story", "attacker", "pki")
PURE_MODULES = ("toytls.web.httpview", "toytls.web.sessionpage", "toytls.web.sessionpage_texts")


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _dotted(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(path: Path) -> str:
    relative = path.relative_to(PACKAGE).parts
    return relative[0] if len(relative) > 1 else ""


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports made absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _dotted(path) if path.name == "__init__.py" else _dotted(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            found.add(base)
            # ``from toytls.core import events`` names a module too
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def _toytls_layers(imported: set[str]) -> set[str]:
    layers = set()
    for name in imported:
        parts = name.split(".")
        if parts[0] != "toytls":
            continue
        if len(parts) == 1 or (parts[1] not in LAYERS and (PACKAGE / f"{parts[1]}.py").exists()):
            layers.add("")
        elif parts[1] in LAYERS:
            layers.add(parts[1])
    return layers


def _calls(path: Path, names: set[str]) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names
    ]


def test_every_module_belongs_to_a_known_layer() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "events.py"]
    assert {p.parent.name for p in _modules() if p.parent != PACKAGE} == set(LAYERS)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_arrows(path: Path) -> None:
    layer = _layer(path)
    used = _toytls_layers(_imports(path))
    assert used <= ALLOWED[layer], (
        f"{path.name} ({layer or 'root'}) imports {used - ALLOWED[layer]}"
    )


@pytest.mark.parametrize("path", sorted((PACKAGE / "core").glob("*.py")), ids=lambda p: p.name)
def test_the_core_does_no_io(path: Path) -> None:
    roots = {name.split(".")[0] for name in _imports(path)}
    assert not roots & IO_MODULES, f"core/{path.name} imports {roots & IO_MODULES}"
    assert _calls(path, {"open", "print", "input"}) == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_cli_talks_to_the_terminal(path: Path) -> None:
    if _layer(path) == "cli":
        return
    assert _calls(path, {"print", "input"}) == [], f"{path} prints or reads the terminal"


def test_the_checks_would_notice_a_violation(tmp_path: Path) -> None:
    """The rules above are not vacuous: they see what the CLI does."""
    assert "" in _toytls_layers(_imports(PACKAGE / "cli" / "main.py"))
    assert _calls(PACKAGE / "cli" / "console.py", {"print"}) != []
    assert "trio" in {n.split(".")[0] for n in _imports(PACKAGE / "streams" / "stream.py")}


def _loaded_loops(modules: list[str]) -> list[str]:
    imports = "; ".join(f"import {name}" for name in modules)
    check = f"import sys; {imports}; print(','.join(m for m in {LOOPS!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True
    )
    return [name for name in result.stdout.strip().split(",") if name]


def test_pure_layers_bring_in_no_event_loop() -> None:
    modules = [
        _dotted(path) for layer in PURE_LAYERS for path in sorted((PACKAGE / layer).glob("*.py"))
    ]
    assert _loaded_loops([*modules, *PURE_MODULES]) == []


def test_the_event_loop_check_would_notice_trio() -> None:
    assert _loaded_loops(["toytls.streams.stream"]) == ["trio"]


#: Small modules and functions (STYLE.md trait 9); text-only tables excepted.
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60


def _long_functions(text: str) -> list[tuple[str, int]]:
    return [
        (node.name, node.end_lineno - node.lineno + 1)
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_and_functions_stay_small(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if not path.name.endswith("_texts.py"):
        assert len(text.splitlines()) <= MAX_MODULE_LINES, f"{path} has grown past the limit"
    long = _long_functions(text)
    assert long == [], f"{path}: functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_the_size_check_would_notice_a_long_function() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    assert _long_functions(f"async def big():\n{body}") == [("big", MAX_FUNCTION_LINES + 1)]
    assert _long_functions(f"def fits():\n{body[: body.rindex('    x')]}") == []
