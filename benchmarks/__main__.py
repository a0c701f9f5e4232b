"""``python -m benchmarks``: run every workload (see :mod:`benchmarks.runner`)."""

import sys

from .runner import main

sys.exit(main())
