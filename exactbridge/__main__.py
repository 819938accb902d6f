"""``python -m exactbridge``: the same as the ``exactbridge`` console script."""

from __future__ import annotations

import sys

from exactbridge.cli import main

if __name__ == "__main__":
    sys.exit(main())
