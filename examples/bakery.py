"""The bakery example: a points program for a neighbourhood bakery.

The program itself lives in the package, :mod:`advokit.examples.bakery`, so
that ``advokit demo`` works from an installed wheel; read it there. This file
runs the demo on ``advokit-demo.db`` in the current directory::

    python examples/bakery.py

and re-exports the program for ``--program``::

    advokit --program examples.bakery:build_program db upgrade
"""

from advokit.examples.bakery import build_program, format_summary, main, run_demo

__all__ = ["build_program", "format_summary", "run_demo"]

if __name__ == "__main__":
    main()
