"""`python -m srcgrad ...`: the same as the `srcgrad` command."""

from .cli import main

raise SystemExit(main())
