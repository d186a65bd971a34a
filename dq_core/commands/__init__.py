"""One module per `dq` subcommand; see dq_core/cli.py."""
