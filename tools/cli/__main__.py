"""`python -m lpwa.tools.cli`: the same as the `lpwa` command."""

import sys

from lpwa.tools.cli import main

sys.exit(main())
