"""Re-take the screenshots under docs/img/ from a finished demo (`make demo`, then
`ccm evidence pack --from 2025-10-01 --to 2025-12-31 --out var/packs`).

    .venv/bin/python docs/screenshots.py [--data-dir var] [--control iam_okta_mfa]

Uses headless Chromium (/usr/bin/chromium) through Playwright; the pages are opened from
the file system, as a user or an auditor would open them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

IMAGES = Path(__file__).resolve().parent / "img"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                 "--disable-component-update", "--disable-sync"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[1] / "var")
    parser.add_argument("--control", default="iam_okta_mfa", help="the control page of the pack to show")
    args = parser.parse_args()
    pack = (args.data_dir / "packs" / "latest").resolve()
    pages = {
        "dashboard.png": args.data_dir / "reports" / "dashboard.html",
        "evidence-pack-index.png": pack / "index.html",
        "evidence-pack-control.png": pack / "controls" / f"{args.control}.html",
    }
    missing = [str(p) for p in pages.values() if not p.is_file()]
    if missing:
        raise SystemExit(f"not found (run `make demo` and build a pack first): {', '.join(missing)}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1500})
        for image, source in pages.items():
            page.goto(source.as_uri())
            page.wait_for_load_state("load")
            page.screenshot(path=str(IMAGES / image))  # the first screen: what a reader sees first
            print(f"{IMAGES / image} ← {source}")
        browser.close()


if __name__ == "__main__":
    main()
