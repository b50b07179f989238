"""``toytls wireshark``: where the toytls/1 dissector is, and how to load it.

The dissector is a Lua plugin shipped inside the package
(``toytls/wireshark/toytls.lua``). The path goes alone on stdout, so that
``-X lua_script:"$(toytls wireshark)"`` works; the advice goes to stderr.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

from .common import EXIT_FAILED, EXIT_OK
from .console import Console
from .options import WiresharkOptions


def dissector_path() -> Path:
    """The absolute path of the shipped ``toytls.lua``."""
    return Path(str(resources.files("toytls") / "wireshark" / "toytls.lua")).resolve()


def run(options: WiresharkOptions) -> int:
    """Print the dissector's path (stdout) and how to load it (stderr), in ``options.lang``."""
    from ..story.decode_texts import WIRESHARK

    which = 1 if options.lang == "zh" else 0
    path = dissector_path()
    if not path.is_file():
        Console(lang=options.lang).error(WIRESHARK["missing"][which].format(path=path))
        return EXIT_FAILED
    print(path)
    print(WIRESHARK["advice"][which], file=sys.stderr)
    return EXIT_OK
