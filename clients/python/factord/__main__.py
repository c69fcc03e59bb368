"""`python3 -m factord ...` runs factorctl."""
import sys

from .ctl import main

sys.exit(main())
