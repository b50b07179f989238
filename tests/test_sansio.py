"""The protocol core is sans-I/O: it imports no trio, socket or time, and
never prints (STYLE.md trait 1).

``cryptography`` itself imports ``socket`` and ``time`` (for IP addresses and
validity checks), so ``sys.modules`` can only prove that no *event loop* came
in; the source check below proves that no core module imports an I/O module
itself.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import toytls

CORE = [
    "codec",
    "config",
    "connection",
    "constants",
    "errors",
    "events",
    "keyschedule",
    "messages",
    "protection",
    "records",
    "state",
    "verification",
    "tamper",
    # not the protocol, but pure as well: narration turns events into text
    "narration",
    "narration_texts",
    "hexdump",
    "eventjson",
    # the HTTP pieces that need no I/O: the proxy's recogniser, the page
    "httpview",
    "sessionpage",
    "sessionpage_texts",
]
LOOPS = ["trio", "asyncio", "anyio"]
IO_MODULES = {"trio", "socket", "time", "selectors", "asyncio", "anyio", "ssl", "subprocess"}
PACKAGE = Path(toytls.__file__).parent


def test_core_modules_import_no_io() -> None:
    imports = "; ".join(f"import toytls.{name}" for name in CORE)
    check = (
        f"import sys; {imports}; "
        f"bad = [m for m in {LOOPS!r} if m in sys.modules]; "
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_the_check_would_notice_trio() -> None:
    """The same check flags the trio adapter, so it is not vacuous."""
    check = "import sys, toytls.stream; print('trio' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "True"


def test_core_modules_import_no_io_module() -> None:
    for name in CORE:
        tree = ast.parse((PACKAGE / f"{name}.py").read_text())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
        assert not imported & IO_MODULES, f"toytls/{name}.py imports {imported & IO_MODULES}"
        assert not imported & {"toytls"}, f"toytls/{name}.py imports toytls absolutely"


def test_core_modules_never_print() -> None:
    for name in CORE:
        tree = ast.parse((PACKAGE / f"{name}.py").read_text())
        calls = [
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"print", "input", "open"}
        ]
        assert calls == [], f"toytls/{name}.py calls print/input/open at lines {calls}"
