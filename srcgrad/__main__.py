"""`python -m srcgrad ...`: the same as the `srcgrad` command."""

from .tools.cli import main

raise SystemExit(main())
