"""python -m digit_recognition.operator_tools.viewer: the `viewer` executable."""

import sys

from digit_recognition.operator_tools.viewer.window import main

sys.exit(main())
