"""Parameters as every node of this package declares them: typed, documented, range-checked,
and QoS overrides checked before the RMW sees them.

Each node lists its parameters once, as a table of ParameterSpec (its PARAMETERS), and
declares them with declare_parameters(); test_parameter_specs.py checks config/params.yaml
and the documentation's parameter tables against those tables.
"""

from typing import Any, NamedTuple, Optional, Tuple

from rcl_interfaces.msg import (
    FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult)
from rclpy.qos import HistoryPolicy
from rclpy.qos_overriding_options import QoSOverridingOptions


class ParameterSpec(NamedTuple):
    """One parameter: its name, typed default (whose type is the parameter's), description,
    and the values it takes."""

    name: str
    default: Any
    description: str
    # (lowest, highest), inclusive: an integer range for an int default, else a float range.
    limits: Optional[Tuple[Any, Any]] = None
    # The strings a string parameter may be (rclpy has no range for strings).
    choices: Optional[Tuple[str, ...]] = None
    read_only: bool = False
    # Any type accepted by rclpy (rclpy >= Galactic); the node checks the value itself and
    # `constraints` says what it takes.
    dynamic_typing: bool = False
    constraints: str = ''

    def descriptor(self) -> ParameterDescriptor:
        """The ParameterDescriptor rclpy enforces (types, ranges) and `ros2 param describe`
        shows."""
        descriptor = ParameterDescriptor(description=self.description, read_only=self.read_only,
                                         dynamic_typing=self.dynamic_typing)
        if self.limits is not None and isinstance(self.default, int):
            descriptor.integer_range = [IntegerRange(
                from_value=self.limits[0], to_value=self.limits[1], step=1)]
        elif self.limits is not None:
            descriptor.floating_point_range = [FloatingPointRange(
                from_value=float(self.limits[0]), to_value=float(self.limits[1]), step=0.0)]
        if self.choices is not None:
            descriptor.additional_constraints = 'one of: ' + ', '.join(self.choices)
        elif self.constraints:
            descriptor.additional_constraints = self.constraints
        return descriptor

    def problem(self, value) -> Optional[str]:
        """Why `value` would be refused (wrong type, out of range, not a choice); None if not.

        What rclpy and the choices callback check, for files and documents that set it."""
        if not self.dynamic_typing and type(value) is not type(self.default):
            return (f'{self.name} is {type(self.default).__name__}, '
                    f'got {type(value).__name__} {value!r}')
        if self.limits is not None and not self.limits[0] <= value <= self.limits[1]:
            return f'{self.name} must be {self.limits[0]}-{self.limits[1]}, got {value!r}'
        if self.choices is not None and value not in self.choices:
            return _not_a_choice(self.name, self.choices, value)
        return None


def declare_parameters(node, specs) -> dict:
    """Declare every parameter of `specs`, in order; their values by name.

    rclpy refuses values of another type or out of range itself; the string choices are
    enforced by a set-parameters callback here, registered before any is declared so a bad
    override stops the node at start-up.
    """
    choices = {spec.name: spec.choices for spec in specs if spec.choices is not None}
    if choices:
        node.add_on_set_parameters_callback(
            lambda parameters: _check_choices(parameters, choices))
    return {spec.name: node.declare_parameter(spec.name, spec.default, spec.descriptor()).value
            for spec in specs}


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


def _check_choices(parameters, choices):
    for parameter in parameters:
        allowed = choices.get(parameter.name)
        if allowed is not None and parameter.value not in allowed:
            return SetParametersResult(
                successful=False, reason=_not_a_choice(parameter.name, allowed, parameter.value))
    return SetParametersResult(successful=True)


def _not_a_choice(name, choices, value):
    return f'{name} must be one of {", ".join(choices)}; got {value!r}'
