"""``toytls decode``: read a capture file and tell its toytls/1 conversations.

This module reads the files (capture, key log, private key); everything
else is the pure :mod:`toytls.story.decode`. A bad capture, key log or key
is one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import sys

from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from .console import Console
from .options import DecodeOptions


def run(options: DecodeOptions) -> int:
    """The ``toytls decode`` command.

    Returns:
        0 when at least one toytls/1 conversation was told; 1 when a key log
        or key was given but opens none of them; 2 for a file that cannot be
        read or used (one error line).
    """
    from ..pki.files import PEMError, load_pem_private_key_rsa
    from ..story.decode import CaptureError, decode_capture
    from ..story.decode_render import conversation_lines, record_to_dict, say, summary_line
    from ..story.error_texts import describe_reason
    from ..story.keylog import KeyLogError, parse_keylog
    from .inspect import file_error_text

    console = Console(
        json_mode=options.json,
        color=sys.stdout.isatty() and not options.no_color and not options.json,
        lang=options.lang,
    )
    try:
        data = options.capture.read_bytes()
        keylog = None
        if options.keylog is not None:
            keylog = parse_keylog(options.keylog.read_text(encoding="utf-8", errors="replace"))
        key = None
        if options.key is not None:
            key = load_pem_private_key_rsa(options.key.read_bytes())
    except OSError as exc:
        console.error(file_error_text(exc, options.lang))
        return EXIT_USAGE
    except (KeyLogError, PEMError) as exc:
        which = options.keylog if isinstance(exc, KeyLogError) else options.key
        console.error(describe_reason(exc.within(str(which)), options.lang))
        return EXIT_USAGE
    try:
        conversations = decode_capture(data, keylog=keylog, private_key=key, port=options.port)
    except CaptureError as exc:
        console.error(describe_reason(exc.within(str(options.capture)), options.lang))
        return EXIT_USAGE
    for number, conversation in enumerate(conversations, start=1):
        if options.json:
            for record in conversation.records:
                console.emit(record_to_dict(number, record))
            continue
        if number > 1:
            console.line("")
        for text, style in conversation_lines(number, conversation, options.lang):
            console.line(text, style=style)
    console.line("")
    console.line(summary_line(conversations, options.lang))
    asked = keylog is not None or key is not None
    # Key X found for a conversation is not enough: a wrong one opens nothing.
    opened = any(r.opened for c in conversations for r in c.records)
    protected = any(r.protected for c in conversations for r in c.records)
    if asked and (all(c.secret is None for c in conversations) or (protected and not opened)):
        console.error(say("none_opened", options.lang))
        return EXIT_FAILED
    return EXIT_OK
