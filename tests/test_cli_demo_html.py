"""``toytls demo --html``: one self-contained file, a diagram per scenario, drawn by a browser."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from browser import CHROMIUM, png_colours, screenshot
from processes import run

SVGS = re.compile(r"<svg\b.*?</svg>", re.DOTALL)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo run once per language, each writing its report."""
    made = {}
    for lang in ("en", "zh"):
        where = tmp_path_factory.mktemp(f"report-{lang}")
        path = where / "report.html"
        result = run("demo", "--lang", lang, "--no-color", "--html", str(path), timeout=240)
        assert result.returncode == 0, result.stdout + result.stderr
        made[lang] = path
    return made


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_one_diagram_per_scenario_and_nothing_external(reports: dict[str, Path], lang: str) -> None:
    page = reports[lang].read_text(encoding="utf-8")
    svgs = SVGS.findall(page)
    assert len(svgs) >= 14
    for number in range(1, 15):
        section = page.split(f'id="scenario-{number}"', 1)[1].split("</section>", 1)[0]
        assert "<svg" in section, number
    for svg in svgs:
        root = ET.fromstring(svg)
        assert int(root.get("width", "0")) > 0 and int(root.get("height", "0")) > 0
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert "<script" not in page
    assert "<link" not in page


def test_the_diagrams_show_the_runs_real_values(reports: dict[str, Path]) -> None:
    page = reports["en"].read_text(encoding="utf-8")
    assert "ClientHello for &apos;localhost&apos;" in page
    assert "CHANGED: B+ swapped for the attacker&apos;s" in page
    assert "T ≠ S" in page
    assert "CHANGED: one bit flipped" in page
    assert "bad_record_mac" in page
    assert re.search(r"handshake done ✓ key X [0-9a-f]{16}", page)


def test_the_chinese_report_has_chinese_labels(reports: dict[str, Path]) -> None:
    svgs = " ".join(SVGS.findall(reports["zh"].read_text(encoding="utf-8")))
    for label in ("客户端", "中间人", "用公钥B+ 锁住的密钥X", "已加密", "被篡改"):
        assert label in svgs, label


@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium: apt-get install chromium")
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_chromium_draws_the_report(reports: dict[str, Path], lang: str, tmp_path: Path) -> None:
    png = reports[lang].parent / f"report-{lang}.png"  # kept for a person to look at
    screenshot(reports[lang].as_uri(), png, tmp_path / "profile", size="1280,3000")
    assert png.stat().st_size > 50_000
    assert png_colours(png) > 50
