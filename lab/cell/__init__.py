"""The PyTorch cell: students type real PyTorch; it runs on real tensors, safely.

    from lab.cell import run_program, Limits, CellResult
    result = run_program(source)              # -> CellResult (plain, picklable)

``source -> size checks -> ast.parse -> whitelist check of every node (lab.cell.check) ->
statement by statement (lab.cell.interpreter)``, every call through one table
(lab.cell.allowed) and every size checked before the work (lab.cell.limits). Nothing is
compiled, nothing is written to disk, and the process's state (grad mode, random seed,
threads) is left as found.

A notebook's ``!pip install torchviz`` (or any line starting with ``!`` or ``%``) is not
Python: the program is refused at that line with a friendly message (torchviz is already
installed), rather than run without it. ``lab.cell.grading`` checks the tutorial's
exercise 3 against the lab's own program; ``python -m lab run FILE`` runs a file in the cell.
"""

from lab.cell.interpreter import run_program
from lab.cell.limits import Abandoned, Limits
from lab.cell.result import CellError, CellResult, TensorSummary, explain

__all__ = ["Abandoned", "CellError", "CellResult", "Limits", "TensorSummary", "explain", "run_program"]
