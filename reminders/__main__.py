import sys

from reminders.entry.cli.main import main

sys.exit(main())
