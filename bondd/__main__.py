"""`python -m bondd` runs the daemon."""

import sys

from bondd.daemon.main import main

sys.exit(main())
