"""``python -m lab``: the lab's command line (see ``lab/cli.py``)."""

from lab.cli import main

raise SystemExit(main())
