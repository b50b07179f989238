"""What the man in the middle does to the records it relays: the proxy's
modes and what each forges, as pure functions over records and the core's
enums (:mod:`.modes`, :mod:`.policy`), and the DER surgery on certificates
(:mod:`.tamper`).

No I/O: the relay that calls these lives in :mod:`toytls.cli.proxy`.
May import :mod:`toytls.core` and the types of :mod:`toytls.pki`.
"""
