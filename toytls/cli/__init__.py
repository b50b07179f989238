"""The ``toytls`` command line: the entry point (:mod:`.main`), the console
that prints the story (:mod:`.console`), one module per command and the
demo that runs them together.

The only layer that prints, reads the terminal or exits. It may import every
other layer.
"""
