"""Write ``js/tests/fixtures/kernel_patches.json``: patches made by the kernel's own
``PatchBuilder`` over text real models write, and the HTML the kernel says the page shows
after each, so the JS suite (``npm test``) applies kernel-made patches with the real
``widget.js`` too. ``tests/test_page_js.py`` checks that the file is current.

Usage: ``python tests/make_page_fixture.py``
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from test_page_js import FIXED, kernel_patches, random_cuts, random_document  # noqa: E402

FIXTURE = HERE.parent / "js" / "tests" / "fixtures" / "kernel_patches.json"


def fixture_cases() -> list[dict[str, Any]]:
    """Kernel-made patches and the expected page HTML after each, for a fixed seed."""
    rng = random.Random(8)
    chunkings = [*FIXED, *(random_cuts(rng, random_document(rng)) for _ in range(20))]
    cases = []
    for chunks in chunkings:
        patches, expected = kernel_patches(chunks)
        cases.append({"chunks": chunks, "patches": patches, "expected": expected})
    return cases


def fixture_text() -> str:
    return json.dumps(fixture_cases(), ensure_ascii=True, indent=0) + "\n"


if __name__ == "__main__":
    FIXTURE.write_text(fixture_text(), encoding="utf-8")
    print(f"wrote {FIXTURE}")
