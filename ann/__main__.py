"""``python -m ann``: see :mod:`ann.cli`."""

import sys

from ann.cli import main

sys.exit(main())
