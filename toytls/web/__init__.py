"""HTTP over toytls: the session page server (:mod:`.httpapp`) and its page
(:mod:`.sessionpage`, texts in :mod:`.sessionpage_texts`), the one-request
client (:mod:`.httpclient`) and the bystander's recogniser the proxy uses
(:mod:`.httpview`), all on h11.

May import :mod:`toytls.core`, :mod:`toytls.streams` and :mod:`toytls.story`;
never prints.
"""
