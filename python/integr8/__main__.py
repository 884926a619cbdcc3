"""``python -m integr8``: the integr8 command line (integr8.cli)."""

import sys

from integr8.cli import main

if __name__ == "__main__":
    sys.exit(main())
