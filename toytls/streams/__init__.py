"""The core put on trio: the :class:`~.context.Context` (what ``ssl.SSLContext``
is to ``ssl``), :class:`~.stream.ToyTLSStream` (a ``trio.abc.Stream`` shaped
like ``trio.SSLStream``), TCP helpers (:mod:`.tcp`), joining two streams
(:mod:`.splice`) and counting what crossed the wire (:mod:`.wiretap`).

May import :mod:`toytls.core` and :mod:`toytls.pki`; never prints.
"""
