"""toytls: HTTPS made visible — the toytls/1 protocol, its trio stream and PKI.

The public API mirrors :mod:`ssl` and :class:`trio.SSLStream`::

    ctx = toytls.create_default_context(cafile="certs/root.pem")
    stream = await toytls.open_toytls_over_tcp_stream(
        "127.0.0.1", 4433, context=ctx, server_hostname="localhost")
    await stream.send_all(b"hello")

The sans-I/O core (:class:`toytls.Connection` and the modules it uses) does
no I/O and imports no trio; the stream and helpers put it on trio. Names are
loaded on first use, so ``import toytls.core.connection`` stays free of trio and
the command line starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    "ClientConfig": "core.config",
    "ServerConfig": "core.config",
    "Connection": "core.connection",
    "AlertDescription": "core.constants",
    "AlertLevel": "core.constants",
    "ContentType": "core.constants",
    "HandshakeType": "core.constants",
    "Context": "streams.context",
    "create_default_context": "streams.context",
    "create_server_context": "streams.context",
    "CertificateVerifyError": "core.errors",
    "DecodeError": "core.errors",
    "ToyTLSError": "core.errors",
    "SessionInfo": "core.events",
    "ToyTLSListener": "streams.tcp",
    "open_toytls_over_tcp_listeners": "streams.tcp",
    "open_toytls_over_tcp_stream": "streams.tcp",
    "serve_toytls_over_tcp": "streams.tcp",
    "NeedHandshakeError": "streams.stream",
    "ToyTLSInsecureWarning": "streams.stream",
    "ToyTLSStream": "streams.stream",
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
    from .core.config import ClientConfig, ServerConfig
    from .core.connection import Connection
    from .core.constants import AlertDescription, AlertLevel, ContentType, HandshakeType
    from .core.errors import CertificateVerifyError, DecodeError, ToyTLSError
    from .core.events import SessionInfo
    from .streams.context import Context, create_default_context, create_server_context
    from .streams.stream import NeedHandshakeError, ToyTLSInsecureWarning, ToyTLSStream
    from .streams.tcp import (
        ToyTLSListener,
        open_toytls_over_tcp_listeners,
        open_toytls_over_tcp_stream,
        serve_toytls_over_tcp,
    )
