"""What every node reports on /diagnostics about once a second, and the rates it measures."""

from collections import deque
import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue


class Diagnostics:
    """Publishes this node's status on /diagnostics about once a second.

    `report()` returns (level, message, {key: value}); level is 'ok', 'warn' or 'error'.
    Counters and the last error are kept here so every node reports them the same way.
    """

    LEVELS = {'ok': DiagnosticStatus.OK, 'warn': DiagnosticStatus.WARN,
              'error': DiagnosticStatus.ERROR}

    def __init__(self, node, report, period_sec=1.0):
        self._node = node
        self._report = report
        self.last_error = ''
        self._publisher = node.create_publisher(DiagnosticArray, '/diagnostics', 10)
        node.create_timer(period_sec, self._publish)

    def error(self, message):
        """Remember an error for the next reports (a node logs it itself)."""
        self.last_error = message

    def _publish(self):
        level, message, values = self._report()
        status = DiagnosticStatus(
            level=self.LEVELS[level], name=f'{self._node.get_fully_qualified_name()}',
            message=message, hardware_id='digit_recognition',
            values=[KeyValue(key=k, value=str(v)) for k, v in
                    {**values, 'last error': self.last_error or 'none'}.items()])
        array = DiagnosticArray(status=[status])
        array.header.stamp = self._node.get_clock().now().to_msg()
        self._publisher.publish(array)


class RateMeter:
    """Events per second over a sliding window, and processing time per event."""

    def __init__(self, window_sec=2.0):
        self.window_sec = window_sec
        self._times = deque()
        self._durations = deque()

    def record(self, duration_sec=0.0):
        now = time.monotonic()
        self._times.append(now)
        self._durations.append(duration_sec)
        while now - self._times[0] > self.window_sec:
            self._times.popleft()
            self._durations.popleft()

    def rate(self):
        if len(self._times) < 2:
            return 0.0
        span = time.monotonic() - self._times[0]
        return len(self._times) / max(span, self.window_sec / 2)

    def mean_ms(self):
        return 1000 * sum(self._durations) / len(self._durations) if self._durations else 0.0
