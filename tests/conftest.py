"""Fixtures shared by every test module.

RSA key generation is the slow part of the suite, so the PKI is generated
once per session and shared; tests must treat it as read-only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from toytls.pki.files import write_pki
from toytls.pki.generate import PKI, generate_pki


@pytest.fixture(scope="session")
def pki() -> PKI:
    """A fresh root, intermediate, leaf for ``localhost`` and attacker kit."""
    return generate_pki("localhost")


@pytest.fixture(scope="session")
def pki_dir(pki: PKI, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding :func:`write_pki`'s files for :func:`pki`."""
    directory = tmp_path_factory.mktemp("pki")
    write_pki(pki, directory)
    return directory
