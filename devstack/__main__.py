"""`python -m devstack run`: what `make run` starts (see devstack.run)."""

from __future__ import annotations

import argparse
import sys

from devstack import run


def main(argv: list[str] | None = None) -> int:
    """Dispatch the sub-command."""
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("command", choices=["run"], help="run: the gateway on embedded defaults")
    parser.parse_args(argv)
    return run.main()


if __name__ == "__main__":
    sys.exit(main())
