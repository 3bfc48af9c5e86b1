"""Entry point of ``cardcheck`` and ``python -m cardcheck``."""

from __future__ import annotations

import sys


def main() -> None:
    """Run the CLI and exit with its documented exit code."""
    argv = sys.argv[1:]
    from cardcheck.fastpath import try_fast

    code = try_fast(argv)
    if code is None:
        from cardcheck.cli import run

        code = run(argv)
    sys.exit(code)


if __name__ == "__main__":
    main()
