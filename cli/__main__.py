"""`python -m zhili.cli`: the same as the `zhili` command."""

from zhili.cli import main

main()
