"""camera_node as a real process: camera_info, recovery from missing and failing sources,
diagnostics."""

import http.server
import shutil
import socketserver
import threading
import time

import cv2
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
import numpy as np
import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image

from conftest import launch_command, REPO, spin_until, start, stop

NAMESPACE = '/camera_under_test'


@pytest.fixture
def watcher(ros_context):
    """A node recording frames, camera_info and the camera's diagnostics."""
    executor = SingleThreadedExecutor(context=ros_context)
    node = Node('watcher', namespace=NAMESPACE, context=ros_context)
    executor.add_node(node)
    seen = {'frames': [], 'infos': [], 'diagnostics': []}
    node.create_subscription(Image, 'image_raw', seen['frames'].append, qos_profile_sensor_data)
    node.create_subscription(CameraInfo, 'camera_info', seen['infos'].append, 10)
    node.create_subscription(
        DiagnosticArray, '/diagnostics',
        lambda msg: seen['diagnostics'].extend(
            s for s in msg.status if s.name == f'{NAMESPACE}/camera'), 10)
    yield executor, seen
    executor.shutdown()
    node.destroy_node()


def values(status):
    return {kv.key: kv.value for kv in status.values}


def test_camera_info_matches_each_frame_and_the_calibration(watcher, tmp_path):
    executor, seen = watcher
    camera = start(launch_command('camera_node', 'camera', NAMESPACE, {
        'source': str(REPO / 'samples' / 'digits.mp4'), 'frame_id': 'hand_camera',
        'camera_info_file': str(REPO / 'test' / 'data' / 'camera_calibration.yaml')}, tmp_path))
    try:
        assert spin_until(executor, lambda: len(seen['frames']) >= 5 and seen['infos'], 30.0)
    finally:
        stop(camera)
    stamps = {(f.header.stamp.sec, f.header.stamp.nanosec) for f in seen['frames']}
    info = seen['infos'][-1]
    assert (info.header.stamp.sec, info.header.stamp.nanosec) in stamps
    assert info.header.frame_id == 'hand_camera' == seen['frames'][-1].header.frame_id
    assert (info.width, info.height, info.distortion_model) == (640, 480, 'plumb_bob')
    assert info.k[0] == pytest.approx(612.3)


def test_a_file_missing_at_start_is_picked_up_when_it_appears(watcher, tmp_path):
    executor, seen = watcher
    video = tmp_path / 'later.mp4'
    camera = start(launch_command('camera_node', 'camera', NAMESPACE,
                                  {'source': str(video)}, tmp_path))
    try:
        assert spin_until(executor, lambda: any(
            s.level == DiagnosticStatus.ERROR for s in seen['diagnostics']), 20.0)
        assert camera.poll() is None  # still running, waiting for its source
        assert not seen['frames']
        shutil.copy(REPO / 'samples' / 'digits.mp4', video)
        assert spin_until(executor, lambda: len(seen['frames']) >= 10, 30.0)
        assert spin_until(executor, lambda: seen['diagnostics'][-1].level == DiagnosticStatus.OK,
                          5.0)
    finally:
        output = stop(camera)
    errors = [line for line in output.splitlines() if 'ERROR' in line]
    assert len(errors) == 1, output  # one clear error, then quiet retries
    assert 'no such file' in errors[0] and 'retrying' in errors[0]
    assert 'is back after' in output
    assert values(seen['diagnostics'][-1])['camera connected'] == 'True'
    assert 'no such file' in values(seen['diagnostics'][-1])['last error']


class FlakyMjpegServer:
    """An HTTP MJPEG camera that sends 30 frames, drops the connection, refuses connections
    for a while, then streams again: a network camera that goes away mid-stream."""

    def __init__(self, frames_per_connection=30, outage_sec=2.0):
        ok, jpeg = cv2.imencode('.jpg', np.full((480, 640, 3), 200, np.uint8))
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                if time.monotonic() < server.down_until:
                    self.send_error(503)
                    return
                self.send_response(200)
                self.send_header('Content-Type', 'multipart/x-mixed-replace; boundary=frame')
                self.end_headers()
                for _ in range(frames_per_connection):
                    self.wfile.write(b'--frame\r\nContent-Type: image/jpeg\r\n'
                                     b'Content-Length: %d\r\n\r\n' % len(jpeg))
                    self.wfile.write(jpeg.tobytes() + b'\r\n')
                    time.sleep(1 / 30)
                server.connections += 1
                server.down_until = time.monotonic() + outage_sec

            def log_message(self, *args):
                pass

        self.connections = 0
        self.down_until = 0.0
        self._server = socketserver.ThreadingTCPServer(('127.0.0.1', 0), Handler)
        self._server.daemon_threads = True
        self.url = f'http://127.0.0.1:{self._server.server_address[1]}/stream.mjpg'
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self):
        self._server.shutdown()
        self._server.server_close()


def test_a_stream_that_stops_mid_way_is_reconnected(watcher, tmp_path):
    executor, seen = watcher
    server = FlakyMjpegServer()
    camera = start(launch_command('camera_node', 'camera', NAMESPACE,
                                  {'source': server.url}, tmp_path))
    try:
        assert spin_until(executor, lambda: server.connections >= 1, 30.0)
        frames_before_outage = len(seen['frames'])
        assert frames_before_outage > 0
        assert spin_until(executor, lambda: server.connections >= 2, 30.0)
        assert camera.poll() is None
    finally:
        output = stop(camera)
        server.close()
    assert len(seen['frames']) > frames_before_outage + 10, output
    assert 'stopped delivering frames; reconnecting' in output
    assert 'is back after' in output
    assert 'Traceback' not in output


def camera_with(ros_context, **parameters):
    from rclpy.parameter import Parameter
    from digit_recognition.nodes.camera_node import CameraNode
    return CameraNode(context=ros_context, parameter_overrides=[
        Parameter(name, value=value) for name, value in parameters.items()])


def test_source_given_as_an_integer_means_that_device_and_other_types_are_refused(
        ros_context):
    from digit_recognition.core.sources import SourceError
    node = camera_with(ros_context, source=2)
    try:
        assert (node.source.source, node.source.kind) == ('2', 'device')
    finally:
        node.destroy_node()
    for value in (1.5, True, -1, ['0']):
        with pytest.raises(SourceError, match='source must be a string or a device number'):
            camera_with(ros_context, source=value)


def test_a_frame_size_preprocess_would_drop_is_refused_at_start(ros_context):
    from digit_recognition.core.sources import SourceError
    with pytest.raises(SourceError, match='8192x4096 is more than the 16777216 pixels'):
        camera_with(ros_context, image_width=8192, image_height=4096)


@pytest.mark.slow  # a launched camera process
def test_an_integer_source_on_the_command_line_means_that_device(tmp_path):
    command = launch_command('camera_node', 'camera', NAMESPACE, {}, tmp_path)
    camera = start(command + ['-p', 'source:=7'])  # as users type it
    try:
        time.sleep(4.0)
        assert camera.poll() is None  # running, retrying the missing device
    finally:
        output = stop(camera)
    assert "publishing device '7'" in output
    assert "cannot open device source '7'" in output
    assert 'Traceback' not in output


def test_frames_are_published_as_jpeg_on_image_raw_compressed_when_asked(ros_context, tmp_path):
    from sensor_msgs.msg import CompressedImage
    from digit_recognition.core.image_encodings import decode_compressed
    executor = SingleThreadedExecutor(context=ros_context)
    node = Node('compressed_watcher', namespace=NAMESPACE, context=ros_context)
    executor.add_node(node)
    compressed = []
    # Only this subscriber: a recording is replayed for it too.
    node.create_subscription(CompressedImage, 'image_raw/compressed', compressed.append,
                             qos_profile_sensor_data)
    camera = start(launch_command('camera_node', 'camera', NAMESPACE, {
        'source': str(REPO / 'samples' / 'digits.mp4'), 'publish_compressed': True,
        'jpeg_quality': 90}, tmp_path))
    try:
        assert spin_until(executor, lambda: len(compressed) >= 5, 30.0)
    finally:
        output = stop(camera)
        executor.shutdown()
        node.destroy_node()
    msg = compressed[-1]
    assert msg.format == 'bgr8; jpeg compressed bgr8', output
    assert msg.header.frame_id == 'camera' and msg.header.stamp.sec > 0
    assert decode_compressed(msg.format, msg.data).shape == (480, 640, 3)
    assert len(msg.data) < 640 * 480 * 3 / 5
