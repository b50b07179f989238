"""The RSA helper process: decrypts key X for a server's event loop, on another core.

:mod:`.rsahelper` starts this program (``main``) in a process of its own and
talks to it over one end of a socket pair, whose file descriptor is the only
argument. It needs no event loop: it reads requests, decrypts each with
:func:`~toytls.core.keyschedule.decrypt_secret` (the same function the
server uses inline) and answers each as soon as it is done.

The frames are private to the two modules, both ways the same shape: a
:data:`HEAD` (kind, number, payload length) and the payload.

* ``KEY`` (to the helper): number = a key number, payload = the private key
  as unencrypted PKCS#8 DER. Sent once per key, before its first request.
* ``DECRYPT`` (to the helper): number = the request's, payload = the key
  number (4 bytes) and the encrypted secret.
* ``READY`` (from the helper, once): it has loaded and takes requests.
* ``SECRET`` (from the helper): number = the request's, payload = the
  secret, or nothing if it did not decrypt to 32 bytes (the caller then uses
  its fallback, so a failure looks the same as inline: implicit rejection).

It exits quietly when the socket closes, which is also what happens when
the server's process ends in any way.
"""

from __future__ import annotations

import signal
import socket
import struct
import sys

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_private_key

from ..core.keyschedule import decrypt_secret

#: kind (one byte), number, payload length
HEAD = struct.Struct(">cII")
KEY_NUMBER = struct.Struct(">I")
KEY = b"K"
DECRYPT = b"D"
READY = b"R"
SECRET = b"S"


def take_frames(pending: bytearray) -> list[tuple[bytes, int, bytes]]:
    """Remove the whole frames at the start of ``pending``; return them as (kind, number, payload).

    A frame still arriving stays in ``pending`` for the next read.
    """
    frames = []
    while len(pending) >= HEAD.size:
        kind, number, length = HEAD.unpack_from(pending)
        end = HEAD.size + length
        if len(pending) < end:
            break
        frames.append((kind, number, bytes(pending[HEAD.size : end])))
        del pending[:end]
    return frames


def serve(sock: socket.socket) -> None:
    """Answer requests on ``sock`` until it closes.

    Raises:
        OSError: The socket failed (the server is gone).
        ValueError: A ``KEY`` frame does not hold an RSA private key.
    """
    keys: dict[int, rsa.RSAPrivateKey] = {}
    pending = bytearray()
    sock.sendall(HEAD.pack(READY, 0, 0))
    while chunk := sock.recv(65536):
        pending += chunk
        for kind, number, payload in take_frames(pending):
            if kind == KEY:
                key = load_der_private_key(payload, password=None)
                if not isinstance(key, rsa.RSAPrivateKey):
                    raise ValueError("the helper was sent a key that is not RSA")
                keys[number] = key
            elif kind == DECRYPT:
                (key_number,) = KEY_NUMBER.unpack_from(payload)
                found = keys.get(key_number)
                encrypted = payload[KEY_NUMBER.size :]
                # b"" is never 32 bytes: "did not decrypt", as decrypt_secret's fallback.
                secret = b"" if found is None else decrypt_secret(found, encrypted, b"")
                # Each answer goes out at once: a later request in the same
                # read must not hold back this one's handshake.
                sock.sendall(HEAD.pack(SECRET, number, len(secret)) + secret)


def main() -> None:
    """The helper's entry point: ``sys.argv[1]`` is its socket's descriptor."""
    # Ctrl-C in the server's terminal is the server's to handle; the helper
    # ends when its socket closes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sock = socket.socket(fileno=int(sys.argv[1]))
    try:
        serve(sock)
    except (OSError, ValueError):
        pass  # the server is gone, or sent something it should not: stop quietly
    finally:
        sock.close()
