import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell(hide_code=True)
def _(mo):
    mo.md(
        r"""
        # nbstream in marimo

        A model's answer streams into the cell's output while it arrives; **Stop** closes the
        connection, so the provider stops generating. Offline (no `OPENAI_API_KEY`) the answers
        come from `nbstream.demo_client()`, at a realistic pace.

        ```bash
        pip install nbstream marimo && marimo edit examples/marimo_quickstart.py
        ```
        """
    )
    return


@app.cell
def _():
    import os

    import marimo as mo
    from openai import OpenAI

    import nbstream

    client = OpenAI() if os.environ.get("OPENAI_API_KEY") else nbstream.demo_client()
    model = "gpt-4.1-mini"
    return client, mo, model, nbstream


@app.cell
def _(client, model, nbstream):
    # The cell returns at once; the answer streams in. Run the cell again: the old answer stops.
    answer = nbstream.responses(
        client, model=model, input="Explain Python generators with a code example and a table."
    )
    answer
    return (answer,)


@app.cell(hide_code=True)
def _(mo):
    mo.md(
        r"""
        ## Stop

        A long answer: press **Stop** (or Esc on the widget) and the connection closes at once.
        `long.stop()` from Python does the same; `long.stop_reason` says why it stopped.
        """
    )
    return


@app.cell
def _(client, model, nbstream):
    long = nbstream.responses(
        client, model=model,
        input="Write a long, detailed essay about the history of computing.",
    )
    long
    return (long,)


@app.cell(hide_code=True)
def _(mo):
    mo.md(
        r"""
        ## A small compare

        Every combination of the arguments wrapped in `nbstream.vary(...)`, side by side in
        one widget, with a summary table.
        """
    )
    return


@app.cell
def _(client, nbstream):
    grid = nbstream.compare(
        client,
        model=nbstream.vary(["gpt-4.1-mini", "gpt-4.1-nano"]),
        input="Summarise async IO in three bullet points.",
    )
    grid
    return (grid,)


if __name__ == "__main__":
    app.run()
