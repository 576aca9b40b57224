# ruff: noqa: RUF001  (the ambiguous characters are the point: text real models write)
"""Text real models write, in a real JupyterLab page: the page always equals the answer.

An emoji-heavy answer (astral characters, ZWJ sequences, flags, CJK, RTL, math letters)
streams in small pieces; the page's text must equal the text of ``w.html`` at the end and the
Raw view must show exactly ``w.text`` (JavaScript strings count UTF-16 units, Python code
points: an offset in the wrong unit shifts the page). The header keeps to its box with a
3,000-character model name, and nothing moves under the pointer when Stop goes away.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
for _p in (_HERE, _HERE.parent):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from test_frontend import STATE_CELL, body_text, html_text, kernel_state  # noqa: E402
from test_jupyterlab import ROOT, wait_body_ends_with, wait_status  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

EMOJI_CELL = '''
import time
import nbstream

ANSWER = """# Résumé 🎉 of the trip 🇯🇵

Done 🎉! The family 👩‍👩‍👧‍👦 loved **Kyōto 京都** and *Ōsaka* 🏯; e\u0301 and 𝛼 + 𝛽 = 𝛾.

| city 🏙️ | note 📝 |
|---|---|
| 東京 | 🍣 sushi &lt;b&gt; and `<img src=x onerror=alert(1)>` |
| مرحبا | שלום 👋🏽 |

- 👌 first ✅
- 🚀 second 🏳️‍🌈 with a [link 🔗](https://example.com/😀)

```python
print("🐍 snake 🐍")  # コメント
```

End of the emoji answer 🏁."""

def pieces(text, size=3):
    for i in range(0, len(text), size):
        time.sleep(0.004)
        yield text[i:i + size]

w = nbstream.stream(pieces(ANSWER))
w
'''


def test_an_emoji_heavy_answer_is_the_same_in_the_page_and_in_w_text(lab) -> None:
    page = lab.page
    lab.open("emoji", [EMOJI_CELL, STATE_CELL])
    assert not lab.run_cell(0)["errors"]
    assert wait_status(page, ("done",), timeout=60_000) == "done"
    wait_body_ends_with(page, "End of the emoji answer 🏁.", "emoji answer")
    state = kernel_state(lab, 1)
    assert state["status"] == "done"
    assert "\ufffd" not in body_text(page)
    assert body_text(page) == html_text(page, state["html"])
    # The Raw view shows the markdown source, character for character.
    page.locator(f"{ROOT} .nbstream-action", has_text="Raw").click()
    raw = page.locator(f"{ROOT} pre.nbstream-raw")
    raw.wait_for(state="visible")
    page.wait_for_function(
        "(sel) => document.querySelector(sel).textContent.length > 0",
        arg=f"{ROOT} pre.nbstream-raw",
    )
    assert raw.evaluate("(el) => el.textContent") == state["text"]
    padding = raw.evaluate("(el) => parseFloat(getComputedStyle(el).paddingLeft)")
    assert padding >= 8, padding  # JupyterLab's own `pre` rule must not win


LONG_MODEL_CELL = """
import nbstream
w = nbstream.responses(nbstream.demo_client(speed=4), model="m" * 3000, input="Hello")
w
"""


def test_the_header_keeps_to_its_box_and_nothing_moves_when_stop_goes(lab) -> None:
    page = lab.page
    lab.open("long-model", [LONG_MODEL_CELL])
    assert not lab.run_cell(0)["errors"]
    page.wait_for_function(
        "(sel) => (document.querySelector(sel)?.textContent || '').length >= 3000",
        arg=f"{ROOT} .nbstream-model",
    )
    raw_before = page.locator(f"{ROOT} .nbstream-action", has_text="Raw").bounding_box()
    box = page.evaluate(
        f"""() => {{
        const root = document.querySelector('{ROOT}').getBoundingClientRect();
        const header = document.querySelector('{ROOT} .nbstream-header');
        const stop = document.querySelector('{ROOT} .nbstream-stop').getBoundingClientRect();
        return {{ rootRight: root.right, stopRight: stop.right, stopLeft: stop.left,
                 overflow: header.scrollWidth - header.clientWidth }};
    }}"""
    )
    assert box["stopRight"] <= box["rootRight"] and box["stopLeft"] > 0, box
    assert box["overflow"] <= 1, box
    assert wait_status(page, ("done",), timeout=60_000) == "done"
    raw_after = page.locator(f"{ROOT} .nbstream-action", has_text="Raw").bounding_box()
    assert raw_after == raw_before
    assert page.locator(f"{ROOT} button.nbstream-stop").is_hidden()
