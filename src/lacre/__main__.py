"""``python -m lacre``: the same as the ``lacre`` command."""

from lacre.cli.main import main

main()
