"""This package's own message, digit_recognition_msgs/DigitReading, and building one.

The message package lies in interfaces/digit_recognition_msgs: colcon builds it beside this one
on a robot (docs/install.md), `make venv` into the virtual environment. Imported on first use,
so that a workspace without it fails with one line that says what to build, not an import
traceback.
"""

from digit_recognition.core.errors import StartupError

READING_TOPIC = 'digit_reading'


def digit_reading_type():
    """The DigitReading message class; StartupError (one line, exit code 1) if not built."""
    try:
        from digit_recognition_msgs.msg import DigitReading  # noqa: PLC0415
    except ImportError as exc:
        raise StartupError(
            f'cannot import digit_recognition_msgs ({exc}): build the message package '
            'interfaces/digit_recognition_msgs beside digit_recognition '
            '(docs/install.md: On the robot) '
            'and source the workspace') from None
    return DigitReading

