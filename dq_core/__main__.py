"""`python -m dq_core ...`: the `dq` command line, for when the console script is not on PATH."""

import sys

from dq_core.cli import main

if __name__ == "__main__":  # a package walk that imports every module must not run the CLI
    sys.exit(main())
