"""The story told from events: narration in the article's terms and its
texts in English and Chinese (:mod:`.narration`, :mod:`.narration_texts`),
annotated hex dumps (:mod:`.hexdump`), events as JSON (:mod:`.eventjson`),
the demo's texts, the lessons' locks and the toy protocols of lessons
2–3 (:mod:`.demo_texts`, :mod:`.lessons`, :mod:`.lesson_protocols`).

Turns events into text and never prints: the CLI decides where text goes.
May import :mod:`toytls.core` only.
"""
