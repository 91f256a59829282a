"""Parameters as every node of this package declares and follows them: typed, documented,
range-checked, changed live in one way, and QoS overrides checked before the RMW sees them.

Each node lists its parameters once, as a table of ParameterSpec (its PARAMETERS), and
declares them with NodeParameters, which also takes every later change: the node reads the
current values from it (`[name]`, or settings(SomeSettings) for a settings type of the core
whose fields are parameter names) where it uses them. test_parameter_specs.py checks
config/params.yaml and the documentation's parameter tables against those tables.
"""

from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple

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

    def descriptor(self, description: Optional[str] = None) -> ParameterDescriptor:
        """The ParameterDescriptor rclpy enforces (types, ranges) and `ros2 param describe`
        shows; `description` in place of the spec's, where a node says more."""
        descriptor = ParameterDescriptor(
            description=self.description if description is None else description,
            read_only=self.read_only, dynamic_typing=self.dynamic_typing)
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


# on_change(values, changed): the values after a change (every parameter) and the changed
# ones; returns why the change is refused, or None to take it.
OnChange = Callable[[Dict[str, Any], Dict[str, Any]], Optional[str]]


class NodeParameters:
    """A node's parameters, declared from its specs, and their current values.

    The one way a node takes parameter changes: one set-parameters callback, registered before
    any parameter is declared so that a bad override stops the node at start-up. It refuses a
    string that is not one of its spec's choices, then hands the change to the node's
    `on_change` (a cross-field rule may refuse it there); what passes is kept in `values`,
    which the node reads where it uses a parameter. rclpy checks types, ranges and read_only
    before any callback, and a node registers no other one, so what passes here is what rclpy
    sets.
    """

    def __init__(self, node, specs, on_change: Optional[OnChange] = None):
        self._node = node
        self._specs = {spec.name: spec for spec in specs}
        self._on_change = on_change
        self._declared = False
        self.values: Dict[str, Any] = {}
        node.add_on_set_parameters_callback(self._on_set_parameters)
        for spec in specs:
            self.values[spec.name] = node.declare_parameter(
                spec.name, spec.default, spec.descriptor()).value
        self._declared = True

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def settings(self, settings_type):
        """A settings NamedTuple of the core with the current values of the parameters named
        as its fields."""
        return settings_type(**{name: self.values[name] for name in settings_type._fields})

    def describe(self, name: str, description: str) -> None:
        """Give parameter `name` another description (what it means now), as `ros2 param
        describe` shows it; the spec's type, range and choices stay. rclpy's set_descriptor,
        which Humble has too."""
        descriptor = self._specs[name].descriptor(description)
        descriptor.type = self._node.describe_parameter(name).type  # as declaring set it
        self._node.set_descriptor(name, descriptor)

    def _on_set_parameters(self, parameters):
        changed = {}
        for parameter in parameters:
            spec = self._specs.get(parameter.name)
            if spec is None:  # rclpy's own: use_sim_time, qos_overrides.*
                continue
            if spec.choices is not None and parameter.value not in spec.choices:
                return SetParametersResult(successful=False, reason=_not_a_choice(
                    parameter.name, spec.choices, parameter.value))
            changed[parameter.name] = parameter.value
        if not changed or not self._declared:  # declaring: values come from declare_parameter
            return SetParametersResult(successful=True)
        values = {**self.values, **changed}
        reason = self._on_change(values, changed) if self._on_change is not None else None
        if reason:
            return SetParametersResult(successful=False, reason=reason)
        self.values = values
        return SetParametersResult(successful=True)


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


def _not_a_choice(name, choices, value):
    return f'{name} must be one of {", ".join(choices)}; got {value!r}'
