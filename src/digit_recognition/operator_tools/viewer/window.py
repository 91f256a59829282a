"""viewer: the tutorial's windows as a ROS tool: the live frame, the ink found, a slider.

Shows the preprocess node's `~/debug/overlay` (the frame with the ROI box and the latest
digit, drawn by the node) and `~/debug/binary`, which the node publishes only while someone
watches, and the latest `digit_crop`. The slider sets the node's `threshold` through its
plain parameter services (Humble has no AsyncParameterClient) and follows changes made
elsewhere (`ros2 param set`) through /parameter_events.

    viewer                                       # the `preprocess` node of this namespace
    viewer --ros-args -r __ns:=/robot1           # /robot1/preprocess
    viewer --preprocess-node /robot1/preprocess

The threshold acts in every threshold_mode; the status line says what it means in the
node's current one. Keys: q quits, s saves the latest crop as PNG; arrow keys move the slider
(Ctrl+arrows by 10, Home and End to its ends). Each change of the slider's value that comes
from the node is printed as `threshold <n>`, each threshold_mode the node reports as
`threshold_mode <mode>: <meaning>`, each saved crop as `saved <path>`; a rejected change is
shown in the status line and logged.
Built with tkinter (apt: python3-tk), so it runs where OpenCV has no GUI (opencv-headless).
"""

import argparse
from pathlib import Path
import signal
import sys
import time

import cv2
import numpy as np
import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.utilities import remove_ros_args
from sensor_msgs.msg import Image

from digit_recognition.core.errors import StartupError
from digit_recognition.core.image_encodings import crop_from_msg, image_from_msg
from digit_recognition.operator_tools.viewer.parameter_client import ThresholdClient
from digit_recognition.operator_tools.viewer.view import (
    crop_path, CROP_ZOOM, parent_namespace, resolve_node_name, Status, TITLE, to_ppm,
    ViewerState)
from digit_recognition.ros.runner import (
    check_params_file, ignore_further_signals, one_line, params_files, RCLError)
from digit_recognition.ros.transport import apply_fastdds_profile, keep_frame_buffers

# Tk timer that spins rclpy and shows the newest images: 20 Hz is live enough to tune by,
# and showing every 30 fps frame would cost the robot a fifth of a core.
TICK_MS = 50
SPINS_PER_TICK = 8  # callbacks handled per tick: 3 image topics at 30 fps, and the rest


class ViewerNode(Node):
    """The ROS side: keeps the latest images; `parameters` talks to the preprocess node's.

    Callbacks only store messages; the window converts the ones it shows.
    """

    def __init__(self, preprocess_node):
        super().__init__('viewer')
        self.target = resolve_node_name(preprocess_node, self.get_namespace())
        crop_topic = parent_namespace(self.target).rstrip('/') + '/digit_crop'
        self.images = {'overlay': None, 'binary': None, 'crop': None}
        self.fresh = set()  # images that arrived since the window last showed them
        self.status = Status(self.target)

        latest_only = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
        self.topics = {'overlay': f'{self.target}/debug/overlay',
                       'binary': f'{self.target}/debug/binary', 'crop': crop_topic}
        for key, topic in self.topics.items():
            self.create_subscription(
                Image, topic, lambda msg, key=key: self._on_image(key, msg), latest_only)
        self.parameters = ThresholdClient(self, self.target, self.status)
        self.get_logger().info(
            f'watching {self.target}: {", ".join(self.topics.values())}')

    def _on_image(self, key, msg):
        self.images[key] = msg
        self.fresh.add(key)

    def image(self, key):
        """The latest image `key` as numpy; ValueError if the message cannot be one. The
        crop is shown without its context channels (crop_from_msg's channel 0)."""
        if key == 'crop':
            crop = crop_from_msg(self.images[key])
            return crop if crop.ndim == 2 else np.ascontiguousarray(crop[..., 0])
        return image_from_msg(self.images[key], 'bgr8' if key == 'overlay' else 'mono8')


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
                               label='threshold', bigincrement=10, length=512,
                               command=self._on_slider)
        self.slider.pack(side='top', fill='x', padx=4)
        self.status = tk.Label(self.root, anchor='w', text=node.status.text)
        self.status.pack(side='top', fill='x', padx=4)
        self.slider.focus_set()  # arrow keys move it
        node.parameters.on_threshold = self._show_threshold
        node.parameters.on_mode = self._show_mode
        self.closed = False
        self.root.after(TICK_MS, self._tick)

    def _on_slider(self, text):
        self.node.parameters.slider_moved(int(float(text)))

    def _show_threshold(self, value):
        self.slider.set(value)
        print(f'threshold {self.slider.get()}', flush=True)

    def _show_mode(self, mode, meaning):
        self.slider.configure(label=f'threshold ({mode})')
        print(f'threshold_mode {mode}: {meaning}', flush=True)

    def _tick(self):
        if self.closed:
            return
        try:
            for _ in range(SPINS_PER_TICK):
                self.executor.spin_once(timeout_sec=0)
        except ExternalShutdownException:
            self.close()
            return
        self.node.parameters.poll()
        for key in tuple(self.node.fresh):
            self.node.fresh.discard(key)
            try:
                ppm = to_ppm(self.node.image(key), CROP_ZOOM if key == 'crop' else 1)
            except ValueError as exc:
                self.node.status.show(ViewerState.BAD_IMAGE, topic=self.node.topics[key],
                                      reason=exc)
                continue
            self.photos[key].configure(data=ppm, format='PPM')
            self.labels[key].configure(text='')
        if self.status.cget('text') != self.node.status.text:
            self.status.configure(text=self.node.status.text)
        self.root.after(TICK_MS, self._tick)

    def save_crop(self):
        if self.node.images['crop'] is None:
            self.node.status.show(ViewerState.NO_CROP, topic=self.node.topics['crop'])
            return
        try:
            crop = self.node.image('crop')
        except ValueError as exc:
            self.node.status.show(ViewerState.CANNOT_SAVE, reason=exc)
            return
        self.saved += 1
        path = crop_path(self.save_dir, time.localtime(), self.saved).resolve()
        if cv2.imwrite(str(path), crop):
            self.node.status.show(ViewerState.SAVED, path=path)
            print(f'saved {path}', flush=True)
        else:
            self.node.status.show(ViewerState.NOT_WRITTEN, path=path)

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
    try:
        non_ros_args = remove_ros_args(argv)
    except RCLError as exc:  # malformed --ros-args
        raise StartupError(f'cannot start: {one_line(exc)}') from None
    return parser.parse_args(non_ros_args[1:])


def main(args=None):
    argv = sys.argv if args is None else ['viewer', *args]
    try:
        return _run(argv)
    except StartupError as exc:
        print(f'viewer: {exc}', file=sys.stderr)
        return 1


# Not run_nodes(): Tk's mainloop must own the process, and a signal close the window (see
# below). The start-up checks are the runner's, each failure one `viewer: ...` line.
def _run(argv):
    """The viewer's process; StartupError for what keeps it from starting."""
    for path in params_files(argv):  # before rcl parses them, which says less
        check_params_file(path)
    options = parse_args(argv)
    if not options.save_dir.is_dir():
        raise StartupError(f'no such folder: {options.save_dir}')
    try:
        import tkinter as tk  # noqa: PLC0415 - only the GUI needs it, and apt ships it apart
    except ImportError:
        raise StartupError('needs tkinter (apt install python3-tk)') from None

    apply_fastdds_profile()
    keep_frame_buffers()
    try:
        rclpy.init(args=argv)
    except RCLError as exc:
        raise StartupError(f'cannot start: {one_line(exc)}') from None
    node = None
    window = None
    executor = SingleThreadedExecutor()
    try:
        try:
            node = ViewerNode(options.preprocess_node)
        except ValueError as exc:  # a bad --preprocess-node
            raise StartupError(str(exc)) from None
        executor.add_node(node)
        try:
            window = ViewerWindow(tk, node, executor, options.save_dir)
        except tk.TclError as exc:  # no display
            raise StartupError(f'cannot open a window: {exc}') from None
        # Ctrl-C in Tk's loop: a KeyboardInterrupt would land in a Tk callback, which
        # prints it and carries on; close the window instead.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: window.close())
        window.root.mainloop()
        return 0
    except (KeyboardInterrupt, ExternalShutdownException):
        return 0
    finally:
        ignore_further_signals()  # as the runner does: a second signal spares the clean-up
        if window is not None:
            window.root.destroy()
        executor.shutdown()
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
        ignore_further_signals()  # rclpy restores the handlers it replaced
