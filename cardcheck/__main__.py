"""Entry point of ``cardcheck`` and ``python -m cardcheck``."""

from __future__ import annotations

import sys


def main() -> None:
    """Run the CLI and exit with its documented exit code."""
    from cardcheck.cli import run

    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
