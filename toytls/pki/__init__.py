"""Certificates for the demo: generating the root, intermediate, server and
attacker material (:mod:`.generate`), and reading and writing it as PEM
files (:mod:`.files`).

May import :mod:`toytls.core`; nothing here knows about streams or the CLI.
"""
