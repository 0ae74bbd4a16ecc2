"""Subcommands of ``gan-style`` beyond Lightning's fit / validate / test / predict."""
