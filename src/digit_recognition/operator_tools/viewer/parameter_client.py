"""The preprocess node's `threshold` and `threshold_mode`, read, set and followed from afar.

Through the node's plain rcl_interfaces GetParameters/SetParameters services and
/parameter_events, as Humble has them: Humble has no AsyncParameterClient.
"""

import time

from rcl_interfaces.msg import Parameter, ParameterEvent, ParameterType, ParameterValue
from rcl_interfaces.srv import GetParameters, SetParameters
from rclpy.qos import qos_profile_parameter_events

from digit_recognition.operator_tools.viewer.view import ThresholdSync

REQUEST_TIMEOUT_SEC = 3.0  # a parameter request this old gets no answer: the node is gone


def parameter_value(value):
    """Python value of an rcl_interfaces/ParameterValue of the kinds used here, else None."""
    if value.type == ParameterType.PARAMETER_INTEGER:
        return value.integer_value
    if value.type == ParameterType.PARAMETER_STRING:
        return value.string_value
    return None


def first_value(future):
    """The first value a GetParameters future brought, as Python; None if none."""
    response = future.result()
    return parameter_value(response.values[0]) if response and response.values else None


class ThresholdClient:
    """Keeps the slider and the remote node's threshold in step, on the caller's node.

    Answers arrive as callbacks of the caller's executor; what they mean for the operator
    goes to `status` (a view.Status), and a threshold the slider should show to
    `on_threshold`.
    """

    def __init__(self, node, target, status):
        self.node = node
        self.target = target
        self.status = status
        self.sync = ThresholdSync()
        self.on_threshold = None  # window callback: the node's threshold moved the slider
        self.on_mode = None  # window callback(mode, meaning): the node's threshold_mode
        node.create_subscription(ParameterEvent, '/parameter_events', self._on_parameter_event,
                                 qos_profile_parameter_events)
        self._get_client = node.create_client(GetParameters, f'{target}/get_parameters')
        self._set_client = node.create_client(SetParameters, f'{target}/set_parameters')
        self._get_future = None
        self._get_sent = 0.0
        self._set_future = None
        self._set_sent = 0.0

    def poll(self):
        """Work that waits on no callback: the first read of the node's parameters, timeouts."""
        now = time.monotonic()
        if self._get_future is not None and now - self._get_sent > REQUEST_TIMEOUT_SEC:
            self._get_future = None  # unanswered: the node went away; ask again
        if self.sync.node_value is None and self._get_future is None \
                and self._get_client.service_is_ready():
            self._get_sent = now
            self._get_future = self._get('threshold', self._on_threshold_read)
            self._get('threshold_mode', self._on_mode_read)
        if self._set_future is not None and now - self._set_sent > REQUEST_TIMEOUT_SEC:
            self._set_future.cancel()
            self._set_future = None
            self._finish_set(False, f'no answer from {self.target}')

    def slider_moved(self, value):
        self._send(self.sync.user_moved(value))

    def _get(self, name, callback):
        # One name a request: a node that lacks one answers none of them.
        future = self._get_client.call_async(GetParameters.Request(names=[name]))
        future.add_done_callback(callback)
        return future

    def _on_threshold_read(self, future):
        if future is not self._get_future:
            return
        self._get_future = None
        value = first_value(future)
        if isinstance(value, int):
            self.status.threshold_read()
            self._node_threshold(value)

    def _on_mode_read(self, future):
        value = first_value(future)
        if isinstance(value, str):
            self._node_mode(value)

    def _on_parameter_event(self, event):
        if event.node != self.target:
            return
        for parameter in list(event.new_parameters) + list(event.changed_parameters):
            value = parameter_value(parameter.value)
            if parameter.name == 'threshold' and isinstance(value, int):
                self._node_threshold(value)
            elif parameter.name == 'threshold_mode' and isinstance(value, str):
                self._node_mode(value)

    def _node_mode(self, mode):
        meaning = self.status.mode_read(mode)
        if self.on_mode is not None:
            self.on_mode(mode, meaning)

    def _node_threshold(self, value):
        if self.sync.node_changed(value) and self.on_threshold is not None:
            self.on_threshold(value)

    def _send(self, value):
        if value is None:
            return
        if not self._set_client.service_is_ready():
            self._finish_set(False, f'{self.target} is not running')
            return
        parameter = Parameter(name='threshold', value=ParameterValue(
            type=ParameterType.PARAMETER_INTEGER, integer_value=value))
        self._set_sent = time.monotonic()
        self._set_future = self._set_client.call_async(
            SetParameters.Request(parameters=[parameter]))
        self._set_future.add_done_callback(self._on_set_done)

    def _on_set_done(self, future):
        if future is not self._set_future or future.cancelled():
            return
        self._set_future = None
        response = future.result()
        result = response.results[0] if response is not None and response.results else None
        if result is None:
            self._finish_set(False, 'empty answer')
        else:
            self._finish_set(result.successful, result.reason)

    def _finish_set(self, successful, reason):
        rejected = self.status.set_answered(self.sync.in_flight, successful, reason)
        if rejected is not None:
            self.node.get_logger().warning(rejected)
        self._send(self.sync.set_done(successful))
        # Back to what the node holds if nothing else is on its way.
        if not successful and self.sync.in_flight is None and \
                self.sync.node_value is not None and self.on_threshold is not None:
            self.on_threshold(self.sync.node_value)
