"""Parameters as every node of this package declares them: typed, documented, range-checked,
and QoS overrides checked before the RMW sees them."""

from rcl_interfaces.msg import (
    FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult)
from rclpy.qos import HistoryPolicy
from rclpy.qos_overriding_options import QoSOverridingOptions


def declare_parameter(node, name, default, description, *, integer_range=None,
                      float_range=None, choices=None, read_only=False):
    """Declare a parameter with its description and range, so rclpy rejects bad values itself.

    rclpy has no range for strings: `choices` are listed in the descriptor, as image_tools'
    cam2image does, and enforced by a set-parameters callback here.
    """
    descriptor = ParameterDescriptor(description=description, read_only=read_only)
    if integer_range is not None:
        descriptor.integer_range = [IntegerRange(
            from_value=integer_range[0], to_value=integer_range[1], step=1)]
    if float_range is not None:
        descriptor.floating_point_range = [FloatingPointRange(
            from_value=float(float_range[0]), to_value=float(float_range[1]), step=0.0)]
    if choices is not None:
        descriptor.additional_constraints = 'one of: ' + ', '.join(choices)
        node.add_on_set_parameters_callback(
            lambda parameters: _check_choice(parameters, name, choices))
    return node.declare_parameter(name, default, descriptor).value


def overridable_qos():
    """QoS overridable from a params file (qos_overrides.<topic>...), checked before the RMW
    sees it: a negative depth reached Fast DDS 2 (Jazzy) as a huge queue and failed with
    rcutils' multi-line error noise on stderr."""
    return QoSOverridingOptions.with_default_policies(callback=_check_qos_overrides)


def _check_qos_overrides(qos):
    if qos.history != HistoryPolicy.KEEP_ALL and qos.depth < 1:
        return SetParametersResult(
            successful=False, reason=f'depth must be at least 1, got {qos.depth}')
    return SetParametersResult(successful=True)


def _check_choice(parameters, name, choices):
    for parameter in parameters:
        if parameter.name == name and parameter.value not in choices:
            return SetParametersResult(
                successful=False,
                reason=f'{name} must be one of {", ".join(choices)}; got {parameter.value!r}')
    return SetParametersResult(successful=True)
