"""Entry point of ``cardcheck`` and ``python -m cardcheck``."""

from __future__ import annotations

import sys


def main() -> None:
    """Run the CLI and exit with its documented exit code."""
    argv = sys.argv[1:]
    try:
        from cardcheck.fastpath import try_fast

        code = try_fast(argv)
        if code is None:
            from cardcheck.cli import run

            code = run(argv)
    except KeyboardInterrupt:
        # Ctrl-C: no traceback. Whatever was open is closed on the way out (PC/SC contexts,
        # worker processes of a long --file), and a db update replaces the list atomically.
        from cardcheck.errors import ExitCode

        sys.stderr.write("cardcheck: interrupted\n")
        code = int(ExitCode.INTERRUPTED)
    sys.exit(code)


if __name__ == "__main__":
    main()
