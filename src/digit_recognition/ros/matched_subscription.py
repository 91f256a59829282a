"""A frame subscription whose reliability follows the publishers of its topic.

A best-effort subscription matches every publisher, but a large frame from a publisher on
Fast DDS's defaults (a camera driver that does not load config/fastdds.xml) reaches it only
if none of its fragments was lost on the way, and on one machine many are. A reliable
subscription has lost fragments resent, but matches no best-effort publisher. So, as
rosbag2 does: reliable while every publisher of the topic is reliable, best effort as soon
as one is not; the topic's publishers are looked at again every `check_period` seconds.

`qos_overrides.<topic>.subscription.reliability` still decides when set: `reliable` or
`best_effort` is kept as given; the default, `system_default`, means follow the publishers.
"""

import copy

from rclpy.qos import ReliabilityPolicy

from digit_recognition.ros.parameters import overridable_qos

FOLLOW = ReliabilityPolicy.SYSTEM_DEFAULT


def matching_reliability(publishers_reliable, current):
    """The reliability that matches publishers (one bool each: reliable?); `current` if none."""
    if not publishers_reliable:
        return current
    if all(publishers_reliable):
        return ReliabilityPolicy.RELIABLE
    return ReliabilityPolicy.BEST_EFFORT


class MatchedSubscription:
    """create_subscription() for frames, with the reliability chosen as the module says.

    When the choice changes, the new subscription is created before the old one goes, and
    the old one keeps delivering until the new one has its first message, so a switch loses
    no frame; a message both deliver at the handover is passed on once.
    """

    def __init__(self, node, msg_type, topic, callback, qos_profile, check_period=0.2):
        self._node = node
        self._msg_type = msg_type
        self._callback = callback
        profile = copy.copy(qos_profile)
        profile.reliability = FOLLOW
        first = node.create_subscription(
            msg_type, topic, self._deliver_from(0), profile,
            qos_overriding_options=overridable_qos())
        self.topic_name = first.topic_name
        self._profile = first.qos_profile  # with the params file's overrides applied
        self._following = self._profile.reliability == FOLLOW
        self._generation = 0
        self._subscriptions = {0: first}
        self._last_header = None
        if self._following:
            # Nothing is published before the first check: replace it with best effort now.
            self._subscribe(ReliabilityPolicy.BEST_EFFORT)
            self._retire(0)
            self._timer = node.create_timer(check_period, self._check_publishers)

    @property
    def reliability(self):
        """The reliability of the subscription that delivers now."""
        return self._subscriptions[min(self._subscriptions)].qos_profile.reliability

    def _subscribe(self, reliability):
        self._generation += 1
        profile = copy.copy(self._profile)
        profile.reliability = reliability
        self._subscriptions[self._generation] = self._node.create_subscription(
            self._msg_type, self.topic_name, self._deliver_from(self._generation), profile)

    def _retire(self, generation):
        self._node.destroy_subscription(self._subscriptions.pop(generation))

    def _check_publishers(self):
        publishers = self._node.get_publishers_info_by_topic(self.topic_name)
        newest = self._subscriptions[self._generation].qos_profile.reliability
        wanted = matching_reliability(
            [p.qos_profile.reliability == ReliabilityPolicy.RELIABLE for p in publishers],
            newest)
        if wanted == newest:
            return
        self._node.get_logger().info(
            f'{self.topic_name}: {len(publishers)} publisher(s), subscribing '
            f'{wanted.name.lower()} to match them')
        if len(self._subscriptions) > 1:  # a switch still waiting for its first message
            self._retire(self._generation)
        self._subscribe(wanted)

    def _deliver_from(self, generation):
        def deliver(msg):
            if generation not in self._subscriptions:
                return  # retired while this message waited in the executor
            if generation == self._generation and len(self._subscriptions) > 1:
                for older in [g for g in self._subscriptions if g != generation]:
                    self._retire(older)
                if msg.header == self._last_header:
                    return  # the old subscription passed this one on already
            elif generation != self._generation:
                self._last_header = msg.header
            self._callback(msg)
        return deliver
