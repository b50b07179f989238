"""The protocol core of toytls/1: records, messages, the handshake state
machine, the key schedule, record protection and the client's chain checks.

Pure, sans-I/O: bytes in, events and bytes to send out. Modules here import
nothing of toytls outside ``toytls.core``, no trio, socket, asyncio,
subprocess, selectors or time, and never open a file; ``tests/test_layers.py``
walks their syntax trees to prove it. Only :mod:`.keyschedule`,
:mod:`.protection` and :mod:`.verification` touch ``cryptography``.
"""
