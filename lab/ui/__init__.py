"""The Streamlit-aware part of the lab, and the **process-start hook** of its server.

Streamlit has no start-up hook: no lab code runs in a server process until a session runs
a script. Every page, the home page included, begins by importing ``lab.ui``, so this
package's first import (by the first session's first run, whatever page it opens) is the
earliest moment the lab can act, and it happens once per process. Here, and nowhere
else, the process is tuned: ``lab.ui.process.start`` installs what Streamlit has no setting
for (TCP_NODELAY, the fair lanes around script runs) after checking it
against the exact Streamlit it was written for, and starts importing torch, sympy, plotly,
torchviz and the lab's modules in a background thread so the first students find them
loaded. Page code never installs anything.

It acts only in a Streamlit server: AppTest, the unit tests and the command line import
``lab.ui`` without patching anything (``process.in_server``).
"""

from lab.ui import process as _process

_process.start()
