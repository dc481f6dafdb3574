"""Look at a persona report in a real headless browser and check the charts are there.

    python -m personas.check_report runs/personas/report.html [--screenshot out.png]

Chromium (Debian: `apt-get install -y chromium`) loads the page twice, headless: once to dump
the DOM after the page's load handler marked every chart image it decoded, once to take a
screenshot, whose pixels are checked for drawn content. Exit status 0 when every chart loaded
and the screenshot is not blank; 2 when no browser is installed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from personas.report import CHART_IDS

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--no-first-run",
    "--virtual-time-budget=5000",
)
WINDOW = (1200, 2400)
TIMEOUT_S = 60.0
_LOADED_RE = re.compile(r'data-charts-loaded="(\d+)"')
_CHART_RE = re.compile(r'<img[^>]*data-chart="([^"]+)"[^>]*data-loaded="yes"')


class BrowserMissingError(RuntimeError):
    """No headless Chromium on this machine."""


@dataclass(frozen=True)
class PageCheck:
    """What the browser saw."""

    charts_loaded: int
    loaded_ids: list[str]
    screenshot: Path
    width: int
    height: int
    inked_fraction: float
    """Share of screenshot pixels that are not (near) white."""
    colours: int
    """Distinct colours in a downsampled screenshot: charts bring many."""

    @property
    def ok(self) -> bool:
        """Every chart decoded and the screenshot shows drawn content."""
        return (
            self.charts_loaded >= len(CHART_IDS)
            and set(CHART_IDS) <= set(self.loaded_ids)
            and self.inked_fraction > 0.02
            and self.colours >= 16
        )


def find_browser() -> str:
    """The path of a headless-capable Chromium; BrowserMissingError when there is none."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise BrowserMissingError("no chromium found; install it with `apt-get install -y chromium`")


def _browser(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, timeout=TIMEOUT_S, cwd=cwd, check=False
    )


def check_page(html_file: Path, screenshot: Path | None = None) -> PageCheck:
    """Load the page headless: DOM after load, then a screenshot; measure both."""
    browser = find_browser()
    url = html_file.resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="mana-report-") as tmp:
        profile = f"--user-data-dir={tmp}/profile"
        dom = _browser([browser, *FLAGS, profile, "--dump-dom", url], Path(tmp))
        if dom.returncode != 0 and not dom.stdout:
            raise RuntimeError(f"{browser} --dump-dom failed: {dom.stderr[-500:]}")
        shot = screenshot or Path(tmp) / "report.png"
        size = f"--window-size={WINDOW[0]},{WINDOW[1]}"
        taken = _browser(
            [browser, *FLAGS, profile, size, f"--screenshot={shot.resolve()}", url], Path(tmp)
        )
        if not shot.exists():
            raise RuntimeError(f"{browser} --screenshot wrote nothing: {taken.stderr[-500:]}")
        width, height, inked, colours = measure(shot)
    loaded = _LOADED_RE.search(dom.stdout)
    return PageCheck(
        charts_loaded=int(loaded.group(1)) if loaded else 0,
        loaded_ids=_CHART_RE.findall(dom.stdout),
        screenshot=shot,
        width=width,
        height=height,
        inked_fraction=inked,
        colours=colours,
    )


def measure(png: Path) -> tuple[int, int, float, int]:
    """Size, share of non-white pixels and distinct colours of a screenshot."""
    import numpy as np
    from PIL import Image

    with Image.open(png) as img:
        rgb = img.convert("RGB")
        width, height = rgb.size
        small = np.asarray(rgb.resize((max(1, width // 4), max(1, height // 4)))).reshape(-1, 3)
    inked = float((small.min(axis=1) < 235).mean()) if len(small) else 0.0
    colours = len(np.unique(small // 8, axis=0))
    return width, height, inked, colours


def main(argv: list[str] | None = None) -> int:
    """Check one report file; print what the browser saw."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("html", type=Path)
    parser.add_argument("--screenshot", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        result = check_page(args.html, args.screenshot)
    except BrowserMissingError as exc:
        print(f"skip: {exc}", file=sys.stderr)
        return 2
    print(
        f"charts loaded: {result.charts_loaded} ({', '.join(result.loaded_ids) or 'none'}); "
        f"screenshot {result.width}x{result.height}, {result.inked_fraction:.1%} inked, "
        f"{result.colours} colours -> {'ok' if result.ok else 'FAILED'}"
    )
    if args.screenshot:
        print(f"screenshot: {args.screenshot}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
