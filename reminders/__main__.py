"""`python -m reminders`: the same command line as the `reminders` script."""

import sys

from reminders.entry.cli.main import main

sys.exit(main())
