"""``python -m sync_server.tripay_sandbox serve|pay|expire|fail|refund``."""

import sys

from sync_server.tripay_sandbox.cli import main

sys.exit(main())
