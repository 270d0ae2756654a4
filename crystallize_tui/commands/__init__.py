"""The subcommands of the ``crystallize`` command line."""
