"""This package's own messages, digit_recognition_msgs/DigitReading and NumberReading.

The message package lies in interfaces/digit_recognition_msgs: colcon builds it beside this one
on a robot (docs/install.md), `make venv` into the virtual environment. Imported on first use,
so that a workspace without it fails with one line that says what to build, not an import
traceback.
"""

from digit_recognition.core.errors import StartupError

READING_TOPIC = 'digit_reading'
NUMBER_READING_TOPIC = 'number_reading'


def _message_type(name):
    """A message class of digit_recognition_msgs; StartupError (one line, exit code 1) if
    the package is not built."""
    try:
        import digit_recognition_msgs.msg as messages  # noqa: PLC0415
    except ImportError as exc:
        raise StartupError(
            f'cannot import digit_recognition_msgs ({exc}): build the message package '
            'interfaces/digit_recognition_msgs beside digit_recognition '
            '(docs/install.md: On the robot) '
            'and source the workspace') from None
    return getattr(messages, name)


def digit_reading_type():
    """The DigitReading message class (StartupError if not built)."""
    return _message_type('DigitReading')


def number_reading_type():
    """The NumberReading message class (StartupError if not built)."""
    return _message_type('NumberReading')

