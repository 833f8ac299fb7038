"""``python -m engine ...`` (so ``ray job submit -- python -m engine run ...`` works)."""

import sys

from engine.cli import main

sys.exit(main())
