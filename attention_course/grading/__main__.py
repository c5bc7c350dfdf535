"""`python -m attention_course.grading ...`: see `cli.py`."""
import sys

from .cli import main

sys.exit(main())
