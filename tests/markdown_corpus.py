"""Markdown documents and XSS payloads shared by the renderer, kernel and browser tests."""

from __future__ import annotations

VARIED = [
    "# Title\n\nA paragraph with **bold**, *italic*, `code` and a [link](https://example.com).\n",
    "Setext heading\n==============\n\nAnother one\n---\n\nText after.\n",
    "- one\n- two\n  - nested **bold**\n  - nested `code`\n- three\n\n1. first\n2. second\n",
    "* loose item\n\n* another loose item\n\n  continued paragraph\n\nafter the list\n",
    "> a quote\n> over two lines\n\n> another quote\nlazy continuation\n\nend\n",
    "```python\ndef f(x):\n    return x * 2  # double\n```\n\nAnd some text.\n",
    "~~~js\nconst a = `template ${x}`;\n~~~\n\n    indented code\n    block\n\nparagraph\n",
    "| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n| x | `y` | **z** |\n\nafter table\n",
    "Inline $x^2 + y^2$ math and a block:\n\n$$\n\\int_0^1 f(x)\\,dx\n$$\n\nand \\(a\\) \\[b\\]\n",
    "- [x] done task\n- [ ] open task\n\n~~struck~~ text and www.example.com autolink\n",
    "Line one  \nhard break\\\nanother\n\n***\n\n___\n\n- - -\n\nthe end\n",
    "Nested emphasis ***both*** and **bold _with italic_ inside** and `a ** not bold`.\n",
    "1) paren list\n2) second\n\n10. starts at ten\n11. eleven\n\ntext\n",
    "# H1\n## H2\n### H3\n#### H4\nparagraph right after heading\n",
    "Text with <b>raw html</b> and &amp; entities &copy; and a backslash \\* escape.\n",
    "```\nunclosed fence at the end\nmore code\n",
]


def corpus_document() -> str:
    """All varied documents joined into one long answer."""
    return "\n".join(VARIED)


SENTINEL = "__nbstream_xss__"

XSS_PAYLOADS = [
    f"<script>window.{SENTINEL}=1</script>",
    f"<img src=x onerror=\"window.{SENTINEL}=1\">",
    f"<svg onload=\"window.{SENTINEL}=1\"></svg>",
    f"<svg><script>window.{SENTINEL}=1</script></svg>",
    f"<iframe src=\"javascript:window.{SENTINEL}=1\"></iframe>",
    f"[click](javascript:window.{SENTINEL}=1)",
    f"[click](JaVaScRiPt:window.{SENTINEL}=1)",
    f"[click](&#106;avascript:window.{SENTINEL}=1)",
    f"[click](java\tscript:window.{SENTINEL}=1)",
    f"[click](vbscript:window.{SENTINEL}=1)",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    f"<javascript:window.{SENTINEL}=1>",
    f"![img](javascript:window.{SENTINEL}=1)",
    f"![x](x\" onerror=\"window.{SENTINEL}=1)",
    f"[ref]\n\n[ref]: javascript:window.{SENTINEL}=1",
    f"<a href=\"javascript:window.{SENTINEL}=1\">a</a>",
    f"<div onmouseover=\"window.{SENTINEL}=1\">hover</div>",
    f"<scr<script>ipt>window.{SENTINEL}=1</script>",
    f"<details open ontoggle=\"window.{SENTINEL}=1\">",
    f"<style>@import 'javascript:window.{SENTINEL}=1';</style>",
    f"```html\n<script>window.{SENTINEL}=1</script>\n```",
    f"`<img src=x onerror=window.{SENTINEL}=1>`",
    f"&lt;script&gt;window.{SENTINEL}=1&lt;/script&gt;",
    f"<img src=x onerror=window.{SENTINEL}=1",
    f"$<img src=x onerror=window.{SENTINEL}=1>$",
    f"| a |\n|---|\n| <img src=x onerror=window.{SENTINEL}=1> |",
    f"<math><mtext><table><mglyph><style><img src=x onerror=window.{SENTINEL}=1>",
    # TeX that latex2mathml turns into links, styles, classes or raw text: typeset in the
    # kernel, the MathML must keep none of it.
    f"$\\href{{javascript:window.{SENTINEL}=1}}{{click}}$",
    f"\\(\\href{{javascript:window.{SENTINEL}=1}}{{x}}\\)",
    f"$\\style{{background:url(javascript:window.{SENTINEL}=1)}}{{x}}$",
    f"$\\class{{x\" onmouseover=\"window.{SENTINEL}=1}}{{y}}$",
    f"$\\text{{<script>window.{SENTINEL}=1</script>}}$",
    f"$$\n\\text{{<img src=x onerror=window.{SENTINEL}=1>}}\n$$",
    f"\\[\\mathrm{{</math><img src=x onerror=window.{SENTINEL}=1>}}\\]",
    "\\(\\unicode{x3c}script\\unicode{x3e}alert(1)\\unicode{x3c}/script\\unicode{x3e}\\)",
    f"$\\color{{javascript:window.{SENTINEL}=1}}{{x}}$",
    f"\\begin{{align}}\n\\text{{<svg onload=window.{SENTINEL}=1>}} &= 1\n\\end{{align}}",
    f"$x$<img src=x onerror=window.{SENTINEL}=1>$y$",
]
