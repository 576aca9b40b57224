"""nbstream: a model's streaming answer as a live object in a Jupyter notebook.

```python
import nbstream
w = nbstream.responses(nbstream.demo_client(), model="gpt-5", input="Hello")
w  # the cell returns at once; the answer streams in, with a Stop button
```
"""

from ._api import chat, completions, responses, stream
from ._compare import compare
from ._demo import demo_client
from ._grid import Grid
from ._guards import Guards
from ._session import configure, live, stop_all
from ._vary import fill, vary
from ._widget import StreamWidget

__all__ = ["Grid", "Guards", "StreamWidget", "chat", "compare", "completions", "configure",
           "demo_client", "fill", "live", "responses", "stop_all", "stream", "vary"]
__version__ = "0.1.0"
