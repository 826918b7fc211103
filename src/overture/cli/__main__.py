"""``python -m overture.cli``."""

from overture.cli.main import main

main()
