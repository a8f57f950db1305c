import sys

from tools.lattice.cli import main

sys.exit(main())
