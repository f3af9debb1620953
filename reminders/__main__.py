import sys

from reminders.cli import main

sys.exit(main())
