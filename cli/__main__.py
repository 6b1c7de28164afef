"""`python -m zhili.cli`: the same as the `zhili` command."""

from zhili.cli.app import main

main()
