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

from collections import deque
import copy

from rclpy.qos import ReliabilityPolicy

from digit_recognition.ros.parameters import overridable_qos

FOLLOW = ReliabilityPolicy.SYSTEM_DEFAULT
HANDOVER_FRAMES = 30  # frames from a new subscription after which the old one goes anyway


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
    the old one keeps delivering until both have delivered the same frame, so a switch loses
    no frame; a frame both deliver is passed on once (by its stamp and frame_id).
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
        self._generation = 0
        self._subscriptions = {0: first}
        self._seen = deque(maxlen=4 * HANDOVER_FRAMES)  # frames passed on during a switch
        self._from_newest = 0
        if self._profile.reliability == FOLLOW:  # not fixed by the params file
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
        self._from_newest = 0
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
        if len(self._subscriptions) > 1:  # a switch not yet handed over: replace its new side
            self._retire(self._generation)
        self._subscribe(wanted)

    def _deliver_from(self, generation):
        def deliver(msg):
            if generation not in self._subscriptions:
                return  # retired while this message waited in the executor
            if len(self._subscriptions) == 1 and not self._seen:
                self._callback(msg)
                return
            self._hand_over(generation, msg)
        return deliver

    def _hand_over(self, generation, msg):
        """A switch in progress: both subscriptions may deliver the same frame, each in its
        own order. Every frame is passed on once; the older subscription goes as soon as
        both have delivered one frame (from then on the newer has all the older would
        bring), or after HANDOVER_FRAMES from the newer (the older lost them)."""
        stamp = msg.header.stamp
        newest = generation == self._generation
        if stamp.sec == 0 and stamp.nanosec == 0:  # unstamped: duplicates cannot be told
            if newest:
                self._retire_older()
                self._seen.clear()
            self._callback(msg)
            return
        key = (stamp.sec, stamp.nanosec, msg.header.frame_id)
        if key in self._seen:
            self._retire_older()
            return
        if len(self._subscriptions) == 1:
            self._seen.clear()  # the newer is past every frame the older delivered
        else:
            self._seen.append(key)
            if newest:
                self._from_newest += 1
                if self._from_newest >= HANDOVER_FRAMES:
                    self._retire_older()
        self._callback(msg)

    def _retire_older(self):
        for older in [g for g in self._subscriptions if g != self._generation]:
            self._retire(older)
