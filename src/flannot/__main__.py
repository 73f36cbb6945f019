"""``python -m flannot`` runs the command line."""

import sys

from flannot.cli import main

sys.exit(main())
