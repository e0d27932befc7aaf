"""``python -m meanshift``: the command line (see :mod:`meanshift.cli`)."""

import sys

from .cli import main

sys.exit(main())
