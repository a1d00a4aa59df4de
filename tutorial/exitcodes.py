"""Exit codes shared by every subcommand."""

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2  # bad usage or a bad lesson file
EXIT_UNREACHABLE = 3  # cluster unreachable
