"""The project's ``scripts/`` modules, imported for tests.

scripts/ is a package (``python -m scripts.load``); it is registered from
its location, so a test does not depend on the working directory.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def script(name: str) -> ModuleType:
    """``scripts.<name>``, found through the package's own folder."""
    if "scripts" not in sys.modules:
        folder = Path(__file__).resolve().parent.parent / "scripts"
        spec = importlib.util.spec_from_file_location(
            "scripts", folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        assert spec is not None and spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"scripts.{name}")
