"""`python -m jaju` is the `jaju` command."""

from jaju.cli.main import main

main()
