"""`python -m mana_planner`: the same as the `mana-planner` command."""

from mana_planner.cli import main

main()
