"""viewer: the tutorial's windows as a ROS tool: the live frame, the ink found, a slider.

Shows the preprocess node's `~/debug/overlay` (the frame with the ROI box and the latest
digit, drawn by the node) and `~/debug/binary`, which the node publishes only while someone
watches, and the latest `digit_crop`. The slider sets the node's `threshold` through its
plain parameter services (Humble has no AsyncParameterClient) and follows changes made
elsewhere (`ros2 param set`) through /parameter_events.

    viewer                                       # the `preprocess` node of this namespace
    viewer --ros-args -r __ns:=/robot1           # /robot1/preprocess
    viewer --preprocess-node /robot1/preprocess

Keys: q quits, s saves the latest crop as PNG; arrow keys move the slider. Each change of
the slider's value that comes from the node is printed as `threshold <n>`, each saved crop
as `saved <path>`; a rejected change is shown in the status line and logged.
Built with tkinter (apt: python3-tk), so it runs where OpenCV has no GUI (opencv-headless).
"""

import argparse
from pathlib import Path
import signal
import sys
import time

import cv2
import numpy as np
from rcl_interfaces.msg import Parameter, ParameterEvent, ParameterType, ParameterValue
from rcl_interfaces.srv import GetParameters, SetParameters
import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import qos_profile_parameter_events, QoSProfile, ReliabilityPolicy
from rclpy.utilities import remove_ros_args
from sensor_msgs.msg import Image

from digit_recognition.core.image_encodings import image_from_msg
from digit_recognition.ros.transport import keep_frame_buffers, use_shared_memory_profile

# Tk timer that spins rclpy and shows the newest images: 20 Hz is live enough to tune by,
# and showing every 30 fps frame would cost the robot a fifth of a core.
TICK_MS = 50
SPINS_PER_TICK = 8  # callbacks handled per tick: 3 image topics at 30 fps, and the rest
REQUEST_TIMEOUT_SEC = 3.0  # a parameter request this old gets no answer: the node is gone
CROP_ZOOM = 4  # a 28x28 crop is too small to judge at 1:1
TITLE = 'digit_recognition viewer'


def to_ppm(image, zoom=1):
    """A mono8 [H, W] or bgr8 [H, W, 3] image as PGM/PPM bytes, for tk.PhotoImage(data=...)."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.size == 0:
        raise ValueError(f'expected a non-empty uint8 image, got {image.dtype} {image.shape}')
    if image.ndim == 3 and image.shape[2] == 3:
        magic, image = b'P6', cv2.cvtColor(image, cv2.COLOR_BGR2RGB)  # PPM is RGB
    elif image.ndim == 2:
        magic = b'P5'
    else:
        raise ValueError(f'expected mono8 [H, W] or bgr8 [H, W, 3], got shape {image.shape}')
    if zoom != 1:
        image = image.repeat(zoom, axis=0).repeat(zoom, axis=1)
    height, width = image.shape[:2]
    return b'%s %d %d 255\n' % (magic, width, height) + image.tobytes()


def resolve_node_name(name, namespace):
    """Fully qualified name of node `name` seen from `namespace`: preprocess -> /ns/preprocess."""
    name = name.strip()
    if not name or name.endswith('/'):
        raise ValueError(f'not a node name: {name!r}')
    if name.startswith('/'):
        return name
    return f'{namespace.rstrip("/")}/{name}'


def parent_namespace(fully_qualified_name):
    """/robot1/preprocess -> /robot1; /preprocess -> /."""
    return fully_qualified_name.rsplit('/', 1)[0] or '/'


def crop_path(save_dir, when, index):
    """A fresh file name for a saved crop: digit_crop_20240131_120501_3.png."""
    return Path(save_dir) / f'digit_crop_{time.strftime("%Y%m%d_%H%M%S", when)}_{index}.png'


class ThresholdSync:
    """Keeps a slider and a remote parameter in step, one set request in flight at a time.

    Dragging gives many values; only the latest is sent once the previous answer is back.
    The node's value moves the slider only while no request of ours is pending, so our own
    echoes do not make the slider jump back under the user's hand.
    """

    def __init__(self):
        self.node_value = None  # last value the node reported
        self.in_flight = None  # value of the pending set request
        self.wanted = None  # value the user chose while a request was pending

    def user_moved(self, value):
        """The slider moved to `value`; returns the value to send now, or None."""
        if self.node_value is None:  # not heard from the node yet: nothing to change
            return None
        if self.in_flight is not None:
            self.wanted = value
            return None
        if value == self.node_value:
            return None
        self.in_flight = value
        return value

    def set_done(self, successful):
        """The pending request was answered; returns the next value to send, or None."""
        if successful:
            self.node_value = self.in_flight
        self.in_flight, wanted, self.wanted = None, self.wanted, None
        if wanted is not None and wanted != self.node_value:
            self.in_flight = wanted
            return wanted
        return None

    def node_changed(self, value):
        """The node reports `value`; returns whether the slider should show it."""
        self.node_value = value
        return self.in_flight is None and self.wanted is None


def _parameter_value(value):
    """Python value of an rcl_interfaces/ParameterValue of the kinds used here, else None."""
    if value.type == ParameterType.PARAMETER_INTEGER:
        return value.integer_value
    if value.type == ParameterType.PARAMETER_STRING:
        return value.string_value
    return None


def _first_value(future):
    """The first value a GetParameters future brought, as Python; None if none."""
    response = future.result()
    return _parameter_value(response.values[0]) if response and response.values else None


class ViewerNode(Node):
    """The ROS side: keeps the latest images and talks to the preprocess node's parameters.

    Callbacks only store messages; the window converts the ones it shows.
    """

    def __init__(self, preprocess_node):
        super().__init__('viewer')
        self.target = resolve_node_name(preprocess_node, self.get_namespace())
        crop_topic = parent_namespace(self.target).rstrip('/') + '/digit_crop'
        self.images = {'overlay': None, 'binary': None, 'crop': None}
        self.fresh = set()  # images that arrived since the window last showed them
        self.threshold = ThresholdSync()
        self.status = f'waiting for {self.target}'
        self.on_threshold = None  # window callback: the node's threshold moved the slider

        latest_only = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
        self.topics = {'overlay': f'{self.target}/debug/overlay',
                       'binary': f'{self.target}/debug/binary', 'crop': crop_topic}
        for key, topic in self.topics.items():
            self.create_subscription(
                Image, topic, lambda msg, key=key: self._on_image(key, msg), latest_only)
        self.create_subscription(ParameterEvent, '/parameter_events', self._on_parameter_event,
                                 qos_profile_parameter_events)
        self._get_client = self.create_client(GetParameters, f'{self.target}/get_parameters')
        self._set_client = self.create_client(SetParameters, f'{self.target}/set_parameters')
        self._get_future = None
        self._get_sent = 0.0
        self._set_future = None
        self._set_sent = 0.0
        self.get_logger().info(
            f'watching {self.target}: {", ".join(self.topics.values())}')

    def _on_image(self, key, msg):
        self.images[key] = msg
        self.fresh.add(key)

    def image(self, key):
        """The latest image `key` as numpy; ValueError if the message cannot be one."""
        return image_from_msg(self.images[key], 'bgr8' if key == 'overlay' else 'mono8')

    def poll(self):
        """Work that waits on no callback: the first read of the node's parameters, timeouts."""
        now = time.monotonic()
        if self._get_future is not None and now - self._get_sent > REQUEST_TIMEOUT_SEC:
            self._get_future = None  # unanswered: the node went away; ask again
        if self.threshold.node_value is None and self._get_future is None \
                and self._get_client.service_is_ready():
            self._get_sent = now
            self._get_future = self._get('threshold', self._on_threshold_read)
            self._get('threshold_mode', self._on_mode_read)
        if self._set_future is not None and now - self._set_sent > REQUEST_TIMEOUT_SEC:
            self._set_future.cancel()
            self._set_future = None
            self._finish_set(False, f'no answer from {self.target}')

    def _get(self, name, callback):
        # One name a request: a node that lacks one answers none of them.
        future = self._get_client.call_async(GetParameters.Request(names=[name]))
        future.add_done_callback(callback)
        return future

    def _on_threshold_read(self, future):
        if future is not self._get_future:
            return
        self._get_future = None
        value = _first_value(future)
        if isinstance(value, int):
            if self.status.startswith('waiting'):
                self.status = f'connected to {self.target}'
            self._node_threshold(value)

    def _on_mode_read(self, future):
        value = _first_value(future)
        if isinstance(value, str):
            self._node_mode(value)

    def _on_parameter_event(self, event):
        if event.node != self.target:
            return
        for parameter in list(event.new_parameters) + list(event.changed_parameters):
            value = _parameter_value(parameter.value)
            if parameter.name == 'threshold' and isinstance(value, int):
                self._node_threshold(value)
            elif parameter.name == 'threshold_mode' and isinstance(value, str):
                self._node_mode(value)

    def _node_threshold(self, value):
        if self.threshold.node_changed(value) and self.on_threshold is not None:
            self.on_threshold(value)

    def _node_mode(self, mode):
        if mode != 'fixed':
            self.status = f'threshold_mode is {mode}: the threshold acts in fixed mode only'
        elif self.status.startswith('threshold_mode'):
            self.status = f'connected to {self.target}'

    def slider_moved(self, value):
        self._send(self.threshold.user_moved(value))

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
        value = self.threshold.in_flight
        if not successful:
            self.status = f'threshold {value} rejected: {reason or "no reason given"}'
            self.get_logger().warning(self.status)
        elif self.status.startswith('threshold '):
            self.status = f'connected to {self.target}'
        self._send(self.threshold.set_done(successful))
        # Back to what the node holds if nothing else is on its way.
        if not successful and self.threshold.in_flight is None and \
                self.threshold.node_value is not None and self.on_threshold is not None:
            self.on_threshold(self.threshold.node_value)


class ViewerWindow:
    """The Tk side: frame, binary view, crop, slider, status line; rclpy spun by a Tk timer."""

    def __init__(self, tk, node, executor, save_dir):
        self.node = node
        self.executor = executor
        self.save_dir = save_dir
        self.saved = 0
        self.root = tk.Tk()
        self.root.title(f'{TITLE}: {node.target}')
        self.root.protocol('WM_DELETE_WINDOW', self.close)
        self.root.bind('<KeyPress-q>', lambda event: self.close())
        self.root.bind('<KeyPress-s>', lambda event: self.save_crop())

        self.photos = {}
        self.labels = {}
        images = tk.Frame(self.root)
        images.pack(side='top', fill='both')
        side = tk.Frame(images)
        for key, parent, caption in (('overlay', images, None),
                                     ('binary', side, 'ink found (the digit white)'),
                                     ('crop', side, f'digit_crop x{CROP_ZOOM} (s saves)')):
            if caption:
                tk.Label(parent, text=caption).pack(side='top', anchor='w')
            self.photos[key] = tk.PhotoImage(master=self.root)
            label = tk.Label(parent, image=self.photos[key], text=f'waiting for\n'
                             f'{node.topics[key]}', compound='center', bg='black', fg='white')
            label.pack(side='top' if caption else 'left', anchor='nw', padx=4, pady=4)
            self.labels[key] = label
        side.pack(side='left', anchor='n')

        self.slider = tk.Scale(self.root, from_=0, to=255, orient='horizontal',
                               label='threshold (fixed mode)', bigincrement=10, length=512,
                               command=self._on_slider)
        self.slider.pack(side='top', fill='x', padx=4)
        self.status = tk.Label(self.root, anchor='w', text=node.status)
        self.status.pack(side='top', fill='x', padx=4)
        self.slider.focus_set()  # arrow keys move it
        node.on_threshold = self._show_threshold
        self.closed = False
        self.root.after(TICK_MS, self._tick)

    def _on_slider(self, text):
        self.node.slider_moved(int(float(text)))

    def _show_threshold(self, value):
        self.slider.set(value)
        print(f'threshold {self.slider.get()}', flush=True)

    def _tick(self):
        if self.closed:
            return
        try:
            for _ in range(SPINS_PER_TICK):
                self.executor.spin_once(timeout_sec=0)
        except ExternalShutdownException:
            self.close()
            return
        self.node.poll()
        for key in tuple(self.node.fresh):
            self.node.fresh.discard(key)
            try:
                ppm = to_ppm(self.node.image(key), CROP_ZOOM if key == 'crop' else 1)
            except ValueError as exc:
                self.node.status = f'bad image on {self.node.topics[key]}: {exc}'
                continue
            self.photos[key].configure(data=ppm, format='PPM')
            self.labels[key].configure(text='')
        if self.status.cget('text') != self.node.status:
            self.status.configure(text=self.node.status)
        self.root.after(TICK_MS, self._tick)

    def save_crop(self):
        if self.node.images['crop'] is None:
            self.node.status = f'no crop yet on {self.node.topics["crop"]}'
            return
        try:
            crop = self.node.image('crop')
        except ValueError as exc:
            self.node.status = f'cannot save the crop: {exc}'
            return
        self.saved += 1
        path = crop_path(self.save_dir, time.localtime(), self.saved).resolve()
        if cv2.imwrite(str(path), crop):
            self.node.status = f'saved {path}'
            print(f'saved {path}', flush=True)
        else:
            self.node.status = f'could not write {path}'

    def close(self):
        self.closed = True
        self.root.quit()


def parse_args(argv):
    parser = argparse.ArgumentParser(prog='viewer', description=__doc__.splitlines()[0])
    parser.add_argument('--preprocess-node', default='preprocess',
                        help='the preprocess node to show and tune, relative to this '
                             "node's namespace or absolute (default: %(default)s)")
    parser.add_argument('--save-dir', default='.', type=Path,
                        help='folder for crops saved with s (default: the current folder)')
    return parser.parse_args(remove_ros_args(argv)[1:])


def main(args=None):
    argv = sys.argv if args is None else ['viewer', *args]
    options = parse_args(argv)
    if not options.save_dir.is_dir():
        print(f'viewer: no such folder: {options.save_dir}', file=sys.stderr)
        return 1
    try:
        import tkinter as tk  # noqa: PLC0415 - only the GUI needs it, and apt ships it apart
    except ImportError:
        print('viewer: needs tkinter (apt install python3-tk)', file=sys.stderr)
        return 1

    use_shared_memory_profile()
    keep_frame_buffers()
    rclpy.init(args=argv)
    node = None
    window = None
    executor = SingleThreadedExecutor()
    try:
        node = ViewerNode(options.preprocess_node)
        executor.add_node(node)
        window = ViewerWindow(tk, node, executor, options.save_dir)
        # Ctrl-C in Tk's loop: a KeyboardInterrupt would land in a Tk callback, which
        # prints it and carries on; close the window instead.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: window.close())
        window.root.mainloop()
        return 0
    except ValueError as exc:  # a bad --preprocess-node
        print(f'viewer: {exc}', file=sys.stderr)
        return 1
    except tk.TclError as exc:  # no display
        print(f'viewer: cannot open a window: {exc}', file=sys.stderr)
        return 1
    except (KeyboardInterrupt, ExternalShutdownException):
        return 0
    finally:
        if window is not None:
            window.root.destroy()
        executor.shutdown()
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    sys.exit(main())
