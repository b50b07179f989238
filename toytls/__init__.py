"""toytls: HTTPS made visible — the toytls/1 protocol, its trio stream and PKI.

The public API mirrors :mod:`ssl` and :class:`trio.SSLStream`::

    ctx = toytls.create_default_context(cafile="certs/root.pem")
    stream = await toytls.open_toytls_over_tcp_stream(
        "127.0.0.1", 4433, context=ctx, server_hostname="localhost")
    await stream.send_all(b"hello")

The sans-I/O core (:class:`toytls.Connection` and the modules it uses) does
no I/O at all; the stream and helpers here put it on trio.
"""

from __future__ import annotations

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

__version__ = "0.1.0"

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
