"""toytls: HTTPS made visible — the toytls/1 protocol, its trio stream and PKI.

The public API mirrors :mod:`ssl` and :class:`trio.SSLStream`::

    ctx = toytls.create_default_context(cafile="certs/root.pem")
    stream = await toytls.open_toytls_over_tcp_stream(
        "127.0.0.1", 4433, context=ctx, server_hostname="localhost")
    await stream.send_all(b"hello")

The sans-I/O core (:class:`toytls.Connection` and the modules it uses) does
no I/O and imports no trio; the stream and helpers put it on trio. Names are
loaded on first use, so ``import toytls.connection`` stays free of trio and
the command line starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    "ClientConfig": "config",
    "ServerConfig": "config",
    "Connection": "connection",
    "AlertDescription": "constants",
    "AlertLevel": "constants",
    "ContentType": "constants",
    "HandshakeType": "constants",
    "Context": "context",
    "create_default_context": "context",
    "create_server_context": "context",
    "CertificateVerifyError": "errors",
    "DecodeError": "errors",
    "ToyTLSError": "errors",
    "SessionInfo": "events",
    "ToyTLSListener": "highlevel",
    "open_toytls_over_tcp_listeners": "highlevel",
    "open_toytls_over_tcp_stream": "highlevel",
    "serve_toytls_over_tcp": "highlevel",
    "NeedHandshakeError": "stream",
    "ToyTLSInsecureWarning": "stream",
    "ToyTLSStream": "stream",
}

__all__ = [
    "AlertDescription",
    "AlertLevel",
    "CertificateVerifyError",
    "ClientConfig",
    "Connection",
    "ContentType",
    "Context",
    "DecodeError",
    "HandshakeType",
    "NeedHandshakeError",
    "ServerConfig",
    "SessionInfo",
    "ToyTLSError",
    "ToyTLSInsecureWarning",
    "ToyTLSListener",
    "ToyTLSStream",
    "create_default_context",
    "create_server_context",
    "open_toytls_over_tcp_listeners",
    "open_toytls_over_tcp_stream",
    "serve_toytls_over_tcp",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'toytls' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from .config import ClientConfig, ServerConfig
    from .connection import Connection
    from .constants import AlertDescription, AlertLevel, ContentType, HandshakeType
    from .context import Context, create_default_context, create_server_context
    from .errors import CertificateVerifyError, DecodeError, ToyTLSError
    from .events import SessionInfo
    from .highlevel import (
        ToyTLSListener,
        open_toytls_over_tcp_listeners,
        open_toytls_over_tcp_stream,
        serve_toytls_over_tcp,
    )
    from .stream import NeedHandshakeError, ToyTLSInsecureWarning, ToyTLSStream
