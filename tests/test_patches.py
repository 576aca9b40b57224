"""The patch protocol: at every flush, what a page rebuilds from the ops equals what the
kernel says the page shows, over random chunkings, healing, resets and the final settle."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_corpus import VARIED, XSS_PAYLOADS
from page_model import apply_ops, shown_html

from nbstream._markdown import render
from nbstream._patches import PartView, PatchBuilder

# Repeated short paragraphs make consecutive open tails identical (a patch then appends
# blocks without touching the tail), which is where a page and the kernel can drift apart.
DOCUMENTS = [*VARIED, "\n\ngap\n\n".join(XSS_PAYLOADS), "gap\n\n" * 40 + "end\n"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.sampled_from(DOCUMENTS), data=st.data())
def test_the_page_rebuilds_exactly_what_the_kernel_sent(doc: str, data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(doc) - 1)), max_size=40)))
    builder, page = PatchBuilder(), {}
    done = 0
    for end in [*cuts, len(doc)]:
        view = PartView(0, "text", 0, {}, False, 0, doc[done:end])
        done = end
        apply_ops(page, builder.build([view]))
        assert shown_html(page[0]) == builder.html_of(0)
    apply_ops(page, builder.build([PartView(0, "text", 0, {}, True, 0, "")], final=True))
    assert shown_html(page[0]) == builder.html_of(0) == render(doc)


def test_a_replaced_text_resets_the_page() -> None:
    builder, page = PatchBuilder(), {}
    apply_ops(page, builder.build([PartView(0, "text", 0, {}, False, 0, "# One\n\ntwo")]))
    apply_ops(page, builder.build([PartView(0, "text", 0, {}, True, 1, "# Other\n\nthree")],
                                  final=True))
    assert shown_html(page[0]) == render("# Other\n\nthree")


def test_plain_parts_travel_as_text_diffs() -> None:
    builder, page = PatchBuilder(), {}
    for piece in ['{"ci', 'ty": "Par', 'is"}']:
        view = PartView(1, "tool_call", 0, {"name": "f"}, False, 0, piece)
        apply_ops(page, builder.build([view]))
    assert page[1]["text"] == '{"city": "Paris"}'
