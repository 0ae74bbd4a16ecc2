"""``python -m gan_style`` runs the ``gan-style`` command."""

from gan_style.cli import main

main()
