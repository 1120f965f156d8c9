"""``python -m swiftnst ...``: the same command line as the ``swiftnst`` script (see swiftnst.cli)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
