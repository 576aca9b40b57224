"""One huge delta: how long after the request does the stream settle (``wait()`` returns)?

Usage::

    python benchmarks/bench_big_delta.py [--mb 10]

A Responses stream whose whole answer arrives as one delta of ``--mb`` MB (its ``.done``
events repeat the text, as the API's do) from the loopback server (``tests/sse_server.py``),
through the real openai SDK. Reported: the SDK alone iterating the stream, one full markdown
render of the text (``nbstream._markdown.render``), and nbstream's settle time. The goal
(issue 8): settle about the SDK's time plus one render; the stream's end must never wait out
the flusher's back-off rest.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from openai import OpenAI
from sse_server import Script, SSEServer
from test_loopback import responses_events

import nbstream
from nbstream._markdown import render


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=10.0, help="size of the delta in MB")
    args = parser.parse_args()
    text = "word " * int(args.mb * 1_000_000 / 5)
    head, tail = responses_events([text])
    with SSEServer() as server:
        client = OpenAI(base_url=server.base_url, api_key="bench", max_retries=0, timeout=600)
        server.enqueue(Script.events("responses", head + tail))
        started = time.monotonic()
        for _event in client.responses.create(model="m", input="x", stream=True):
            pass
        sdk = time.monotonic() - started
        started = time.monotonic()
        render(text)
        one_render = time.monotonic() - started
        server.enqueue(Script.events("responses", head + tail))
        started = time.monotonic()
        w = nbstream.responses(client, model="m", input="x")
        w.wait(600)
        settle = time.monotonic() - started
        client.close()
    print(f"{args.mb:g} MB delta: SDK alone {sdk:.2f} s, one render {one_render:.2f} s, "
          f"nbstream settle {settle:.2f} s (status {w.status}, {len(w.text):,} chars)")


if __name__ == "__main__":
    main()
