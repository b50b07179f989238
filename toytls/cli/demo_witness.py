"""Who hears the parties of ``toytls demo``: by default, nobody.

Each scenario of :mod:`.demorun` starts a real server, maybe a proxy, and a
client. A :class:`Witness` is handed what each of them reports — the
server's and the proxy's events through the console they log to, the
client's events and the proxy's outcomes through :meth:`Witness.hear` — and
this one lets it all pass unheard, as the terminal demo wants. The HTML
report (:mod:`.demo_report`) records it instead, to draw each connection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .console import Console

_T = TypeVar("_T")


class Witness:
    """Hears nothing: a silent console, handlers passed on as they are."""

    def console(self) -> Console:
        """The console a scenario's server or proxy logs to: JSON, thrown away."""
        return Console(json_mode=True, sink=lambda _: None)

    def hear(self, party: str, handler: Callable[[_T], None]) -> Callable[[_T], None]:
        """The handler to give ``party`` ("client" events, "proxy" outcomes) instead."""
        return handler
