"""``toytls wireshark``: where the toytls/1 dissector is, and how to load it.

The dissector is a Lua plugin shipped inside the package
(``toytls/wireshark/toytls.lua``). The path goes alone on stdout, so that
``-X lua_script:"$(toytls wireshark)"`` works; the advice goes to stderr.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

from .common import EXIT_FAILED, EXIT_OK, fail


def dissector_path() -> Path:
    """The absolute path of the shipped ``toytls.lua``."""
    return Path(str(resources.files("toytls") / "wireshark" / "toytls.lua")).resolve()


def run() -> int:
    """Print the dissector's path (stdout) and how to load it (stderr)."""
    path = dissector_path()
    if not path.is_file():
        return fail(f"the dissector is missing from this installation: {path}", EXIT_FAILED)
    print(path)
    print(
        "load it with:  wireshark -X lua_script:PATH   (or tshark -X lua_script:PATH)\n"
        "or copy it to your personal Lua plugins folder "
        "(Help > About Wireshark > Folders), e.g. ~/.local/lib/wireshark/plugins/\n"
        "filter: toytls; port 4433, or Decode As … toytls (tshark: -d tcp.port==PORT,toytls)",
        file=sys.stderr,
    )
    return EXIT_OK
