import sys

from em_core.cli import main

sys.exit(main())
