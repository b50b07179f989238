"""A helper process that decrypts key X off the event loop, on another core.

Why a process and not a thread: RSA releases the GIL, but a worker thread
must take the GIL back to return its result, and a busy trio loop starves
it. Every system call the loop makes (each ``epoll_wait``, each read and
write) releases the GIL and takes it straight back, which restarts the
waiting thread's switch interval, so the thread never gets to ask for the
GIL (measured here: a decryption that takes 0.3 ms took 0.3-1 s from
hand-over to result while four tasks kept the loop busy, whatever the
switch interval; beside a busy thread that makes no system calls it came
back after one switch interval). A process
has no GIL to wait for: the loop pays a write, and later a read, per key
exchange.

One helper per trio run (:func:`trio.lowlevel.RunVar`), started on first
use by a system task that owns it; the key exchanges that come before it is
ready decrypt inline, as does every one after it failed or exited. When the
run ends the system task is cancelled, closes the socket, and the helper,
seeing end of file, exits; so does a helper whose server process died.

The frames are described in :mod:`.rsachild`, the helper's program.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import outcome
import trio
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .rsachild import DECRYPT, HEAD, KEY, KEY_NUMBER, READY, SECRET, take_frames

#: The helper's program, run by the same interpreter as the server.
_PROGRAM = "from toytls.streams.rsachild import main; main()"
#: Seconds the helper gets to exit after its socket closes, before it is killed.
_EXIT_WAIT = 2.0


class RSAHelper:
    """The helper process of one trio run, and the key exchanges waiting on it."""

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.process: subprocess.Popen[bytes] | None = None
        #: True from the helper's READY until it fails or the run ends
        self.ready = False
        #: set once the helper is ready, or has failed to start
        self.settled = trio.Event()
        self._waiting: dict[int, trio.lowlevel.Task] = {}
        #: key object's id -> (the key, kept so the id stays its own; its number)
        self._keys: dict[int, tuple[rsa.RSAPrivateKey, int]] = {}
        self._last_number = 0

    async def run(self) -> None:
        """The system task: start the helper, deliver its answers, stop it at the end."""
        try:
            self._start()
            await self._deliver_answers()
        except Exception:
            # Whatever went wrong (it would not start, its socket failed, it
            # sent what it should not), the helper is only a way to go
            # faster: every key exchange now decrypts inline. An exception
            # out of a system task would end the whole trio run.
            pass
        finally:
            self._stop()

    async def decrypt(self, key: rsa.RSAPrivateKey, encrypted: bytes) -> bytes | None:
        """Have the helper decrypt ``encrypted`` with ``key``.

        Returns:
            The secret; ``b""`` if it did not decrypt to 32 bytes; ``None``
            if the helper cannot answer (not ready, failed, or the caller was
            cancelled while it waited): the caller then decrypts inline, so
            bytes it already read are never lost.
        """
        if not self.ready:
            return None
        try:
            key_number, key_frame = self._key(key)
        except (TypeError, ValueError, UnsupportedAlgorithm):
            return None  # a key that cannot be written out stays inline
        number = self._next_number()
        head = HEAD.pack(DECRYPT, number, KEY_NUMBER.size + len(encrypted))
        try:
            self._send(key_frame + head + KEY_NUMBER.pack(key_number) + encrypted)
        except OSError:
            self._fail()
            return None
        task = trio.lowlevel.current_task()
        self._waiting[number] = task

        def abort(_: object) -> trio.lowlevel.Abort:
            # The caller has read the bytes that hold the key exchange:
            # rather than lose them, it goes on inline, and the cancellation
            # reaches it at its next checkpoint. A late answer is dropped.
            if self._waiting.pop(number, None) is not None:
                trio.lowlevel.reschedule(task, outcome.Value(None))
            return trio.lowlevel.Abort.FAILED

        secret: bytes | None = await trio.lowlevel.wait_task_rescheduled(abort)
        return secret

    def _next_number(self) -> int:
        self._last_number = (self._last_number + 1) & 0xFFFFFFFF
        return self._last_number

    def _key(self, key: rsa.RSAPrivateKey) -> tuple[int, bytes]:
        """``key``'s number for the helper, and the KEY frame to send first (or nothing).

        Raises:
            TypeError, ValueError, UnsupportedAlgorithm: ``key`` cannot be
                written out as PKCS#8.
        """
        known = self._keys.get(id(key))
        if known is not None:
            return known[1], b""
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        number = len(self._keys) + 1
        self._keys[id(key)] = (key, number)
        return number, HEAD.pack(KEY, number, len(der)) + der

    def _send(self, frame: bytes) -> None:
        """Write ``frame`` whole, now.

        Raises:
            OSError: It did not all go at once. The frames are small and at
                most a few are in flight, so a full socket means the helper
                has stopped reading.
        """
        assert self.sock is not None  # ready
        if self.sock.send(frame) != len(frame):
            raise OSError("the RSA helper stopped reading")

    def _start(self) -> None:
        """Start the helper process on one end of a new socket pair.

        Raises:
            OSError: The process could not be started.
        """
        ours, theirs = socket.socketpair()
        with theirs:
            root = str(Path(__file__).resolve().parents[2])  # where toytls is
            path = os.environ.get("PYTHONPATH")
            env = {**os.environ, "PYTHONPATH": root if not path else root + os.pathsep + path}
            try:
                self.process = subprocess.Popen(
                    [sys.executable, "-c", _PROGRAM, str(theirs.fileno())],
                    pass_fds=(theirs.fileno(),),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=env,
                    start_new_session=True,  # the terminal's signals are the server's
                )
            except BaseException:
                ours.close()
                raise
        ours.setblocking(False)
        self.sock = ours

    async def _deliver_answers(self) -> None:
        """Read the helper's frames and wake the key exchanges they answer, until it ends."""
        assert self.sock is not None
        pending = bytearray()
        while True:
            await trio.lowlevel.wait_readable(self.sock)
            try:
                chunk = self.sock.recv(65536)
            except BlockingIOError:
                continue
            if not chunk:
                return  # the helper exited
            pending += chunk
            for kind, number, payload in take_frames(pending):
                if kind == READY:
                    self.ready = True
                    self.settled.set()
                elif kind == SECRET and (task := self._waiting.pop(number, None)):
                    trio.lowlevel.reschedule(task, outcome.Value(payload))

    def _fail(self) -> None:
        """Stop using the helper; whoever waits on it decrypts inline."""
        self.ready = False
        self.settled.set()
        waiting, self._waiting = self._waiting, {}
        for task in waiting.values():
            trio.lowlevel.reschedule(task, outcome.Value(None))

    def _stop(self) -> None:
        self._fail()
        if self.sock is not None:
            self.sock.close()  # the helper sees end of file and exits
        if self.process is not None:
            try:
                self.process.wait(_EXIT_WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_HELPER: trio.lowlevel.RunVar[RSAHelper] = trio.lowlevel.RunVar("toytls_rsa_helper")


def rsa_helper() -> RSAHelper:
    """This trio run's helper; the first call starts it (it is ready a little later)."""
    try:
        return _HELPER.get()
    except LookupError:
        helper = RSAHelper()
        _HELPER.set(helper)
        trio.lowlevel.spawn_system_task(helper.run, name="toytls RSA helper")
        return helper


async def start_rsa_helper() -> bool:
    """Start this run's helper now rather than on first need, and wait for it.

    Returns:
        True if it is ready; False if it could not start (key exchanges
        then decrypt inline).
    """
    helper = rsa_helper()
    await helper.settled.wait()
    return helper.ready
