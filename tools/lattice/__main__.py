"""`python -m tools.lattice ...`: the command line (cli.py)."""

import sys

from tools.lattice.cli import main

sys.exit(main())
