"""Cameras that hang, answer late or give nothing: the camera node (alone and in `pipeline`)
keeps reporting, answering and stopping on time. Real processes, real DDS, real sockets."""

import itertools
import os
from pathlib import Path
import signal
import socket
import subprocess
import threading
import time

import cv2
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
import numpy as np
import pytest
from rcl_interfaces.srv import GetParameters
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
import yaml

from conftest import executable, launch_command, PARAMS_FILE, spin_until, start, stop

NAMESPACE = '/camera_faults'
SHM = Path('/dev/shm')


class NetworkCamera:
    """A TCP server on 127.0.0.1 that plays a network camera which misbehaves.

    Connections accepted before `answer_after` seconds are held open and never answered
    (`mode='silent'`), or get the HTTP header of an MJPEG stream and then nothing
    (`mode='header'`). Later connections get an MJPEG stream at 30 fps; with
    `stall_after_frames`, it stops sending after that many frames but keeps the connection.
    """

    def __init__(self, mode='silent', answer_after=None, stall_after_frames=None):
        self.mode = mode
        self.answer_after = answer_after
        self.stall_after_frames = stall_after_frames
        self.connections = 0
        self.stalled_at = None  # time.monotonic() of the first stall
        self._closing = threading.Event()
        self._jpeg = cv2.imencode('.jpg', np.full((480, 640, 3), 200, np.uint8))[1].tobytes()
        self._listener = socket.create_server(('127.0.0.1', 0))
        self.url = f'http://127.0.0.1:{self._listener.getsockname()[1]}/stream'
        self.started = time.monotonic()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def answering(self):
        return (self.answer_after is not None
                and time.monotonic() - self.started >= self.answer_after)

    def _accept(self):
        while not self._closing.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(connection, self.answering),
                             daemon=True).start()

    def _serve(self, connection, answering):
        with connection:
            try:
                if not answering:
                    if self.mode == 'header':
                        connection.recv(4096)
                        connection.sendall(self._header())
                    self._closing.wait()
                    return
                connection.recv(4096)
                connection.sendall(self._header())
                frames = 0
                while not self._closing.is_set():
                    if frames == self.stall_after_frames:
                        self.stalled_at = self.stalled_at or time.monotonic()
                        self._closing.wait()
                        return
                    connection.sendall(b'--frame\r\nContent-Type: image/jpeg\r\n'
                                       b'Content-Length: %d\r\n\r\n' % len(self._jpeg)
                                       + self._jpeg + b'\r\n')
                    frames += 1
                    time.sleep(1 / 30)
            except OSError:  # the camera node gave up on this connection
                pass

    @staticmethod
    def _header():
        return (b'HTTP/1.0 200 OK\r\n'
                b'Content-Type: multipart/x-mixed-replace; boundary=frame\r\n\r\n')

    def close(self):
        self._closing.set()
        self._listener.close()


@pytest.fixture
def camera_server():
    servers = []

    def make(**kwargs):
        servers.append(NetworkCamera(**kwargs))
        return servers[-1]
    yield make
    for server in servers:
        server.close()


class Watcher:
    """A node in this process recording /diagnostics (with arrival times) and frames."""

    def __init__(self, context):
        self.context = context
        self.executor = SingleThreadedExecutor(context=context)
        self.node = Node('fault_watcher', namespace=NAMESPACE, context=context)
        self.executor.add_node(self.node)
        self.diagnostics = []  # (arrival, status)
        self.frames = []  # arrival times
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self._diagnostics, 50)
        self.node.create_subscription(Image, 'image_raw',
                                      lambda msg: self.frames.append(time.monotonic()),
                                      qos_profile_sensor_data)
        self._closed = False

    def _diagnostics(self, msg):
        now = time.monotonic()
        self.diagnostics += [(now, status) for status in msg.status
                             if status.name.startswith(NAMESPACE + '/')]

    def of(self, node_name):
        return [(t, s) for t, s in self.diagnostics if s.name == f'{NAMESPACE}/{node_name}']

    def spin_for(self, seconds):
        spin_until(self.executor, lambda: False, seconds)

    def spin_until(self, condition, timeout_sec):
        return spin_until(self.executor, condition, timeout_sec)

    def close(self):
        """Destroy the node and shut the context down: this process's DDS segments go."""
        if not self._closed:
            self._closed = True
            self.executor.shutdown()
            self.node.destroy_node()
            import rclpy
            rclpy.try_shutdown(context=self.context)


@pytest.fixture
def watcher(ros_context):
    watcher = Watcher(ros_context)
    yield watcher
    watcher.close()


def values(status):
    return {kv.key: kv.value for kv in status.values}


def largest_gap(times, start, end):
    """The longest time without a message between start and end (arrival times)."""
    inside = [start] + [t for t in times if start <= t <= end] + [end]
    return max(b - a for a, b in itertools.pairwise(inside))


def dds_segments():
    """Fast DDS shared-memory files (fastdds_* in Fast DDS 3, fastrtps_* in 2)."""
    return {name for name in os.listdir(SHM) if 'fastdds_' in name or 'fastrtps_' in name}


def mapped_segments(pid):
    """The /dev/shm files a process has mapped: its own DDS segments and the ports it uses."""
    with open(f'/proc/{pid}/maps') as maps:
        paths = {line.split()[-1] for line in maps if len(line.split()) >= 6}
    return {path[len('/dev/shm/'):] for path in paths if path.startswith('/dev/shm/')}


def mapped_by_any_process():
    """The /dev/shm files some living process has mapped (others' tests may share ports)."""
    names = set()
    for maps in Path('/proc').glob('[0-9]*/maps'):
        try:
            names |= mapped_segments(maps.parent.name)
        except OSError:  # gone meanwhile, or not ours to read
            pass
    return names


def stop_as_launch_does(process, sig):
    """Signal the process; give it 2 s, then SIGKILL (ros2 launch escalates the same way).
    Return the seconds it took to exit and its output."""
    sent = time.monotonic()
    process.send_signal(sig)
    try:
        process.wait(timeout=2.0)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return time.monotonic() - sent, process.communicate()[0]


@pytest.mark.slow  # a launched camera process
@pytest.mark.parametrize('mode, sig', [('silent', signal.SIGINT), ('header', signal.SIGTERM)])
def test_a_network_camera_that_never_answers_blocks_nothing(
        watcher, camera_server, tmp_path, mode, sig):
    server = camera_server(mode=mode)
    segments_before = dds_segments()
    started = time.monotonic()
    camera = start(launch_command('camera_node', 'camera', NAMESPACE,
                                  {'source': server.url}, tmp_path))
    try:
        assert watcher.spin_until(lambda: watcher.of('camera'), 15.0)
        first = watcher.of('camera')[0][0]
        # Longer than two of FFmpeg's open timeouts: the node reports throughout.
        watcher.spin_for(12.0)
        child_segments = mapped_segments(camera.pid) - segments_before
        assert camera.poll() is None
        seconds, output = stop_as_launch_does(camera, sig)
    finally:
        if camera.returncode is None:
            stop(camera)
    reports = watcher.of('camera')
    times = [t for t, _ in reports]
    gap = largest_gap(times, first, first + 12.0)
    print(f'{mode}: first report {first - started:.2f} s after start, largest gap '
          f'{gap:.2f} s, {len(reports)} reports, '
          f'exit {camera.returncode} after {seconds:.2f} s, {server.connections} connections')
    assert gap < 2.0, output
    assert all(values(s)['camera connected'] == 'False' and s.level == DiagnosticStatus.ERROR
               for _, s in reports)
    assert server.connections >= 2  # retried while reporting
    assert seconds < 2.0 and camera.returncode == 0, output
    errors = [line for line in output.splitlines() if 'ERROR' in line]
    assert len(errors) == 1 and 'cannot open stream' in errors[0], output
    assert 'Traceback' not in output
    # Nothing of the camera's left in /dev/shm once it and this process's context are gone
    # (this process maps the camera's ports while it runs): no segment it mapped remains
    # that no process maps any more. SIGKILL leaves its 34 MiB segment there.
    assert any(name.startswith(('fastdds_', 'fastrtps_')) for name in child_segments)
    watcher.close()
    leaked = child_segments & dds_segments() - mapped_by_any_process()
    assert not leaked, (sorted(child_segments), sorted(leaked))


@pytest.mark.slow  # a launched camera process
def test_a_stream_that_stalls_is_reported_within_two_seconds(watcher, camera_server, tmp_path):
    server = camera_server(answer_after=0.0, stall_after_frames=60)
    camera = start(launch_command('camera_node', 'camera', NAMESPACE,
                                  {'source': server.url}, tmp_path))
    try:
        assert watcher.spin_until(lambda: server.stalled_at, 30.0)
        stalled_at = server.stalled_at
        assert watcher.frames

        def disconnected_reports():
            return [t for t, s in watcher.of('camera')
                    if t > stalled_at and values(s)['camera connected'] == 'False']
        assert watcher.spin_until(disconnected_reports, 10.0)
        noticed = disconnected_reports()[0] - stalled_at
        watcher.spin_for(6.0)  # past FFmpeg's read timeout: the node reconnects
        watched_until = time.monotonic()
        assert camera.poll() is None
        seconds, output = stop_as_launch_does(camera, signal.SIGINT)
    finally:
        if camera.returncode is None:
            stop(camera)
    gap = largest_gap([t for t, _ in watcher.of('camera')], stalled_at, watched_until)
    print(f'stall reported after {noticed:.2f} s; largest gap after it {gap:.2f} s; '
          f'exit after {seconds:.2f} s')
    assert noticed < 2.0, output
    assert gap < 2.0, output
    assert 'stopped delivering frames; reconnecting' in output
    assert server.connections >= 2
    assert seconds < 2.0 and camera.returncode == 0, output


@pytest.mark.slow  # a launched camera process
def test_a_network_camera_that_answers_late_is_found_within_the_backoff_maximum(
        watcher, camera_server, tmp_path):
    # Accepts at once but answers only after 5 s, as a camera that is still booting.
    server = camera_server(mode='silent', answer_after=5.0)
    camera = start(launch_command('camera_node', 'camera', NAMESPACE,
                                  {'source': server.url}, tmp_path))
    try:
        assert watcher.spin_until(lambda: watcher.frames, 30.0)
        seen_after = watcher.frames[0] - (server.started + server.answer_after)
        assert watcher.spin_until(lambda: values(watcher.of('camera')[-1][1])[
            'camera connected'] == 'True', 5.0)
    finally:
        output = stop(camera)
    print(f'first frame {seen_after:.2f} s after the camera answered')
    assert seen_after < 8.0 + 1.0, output  # the back-off's maximum, and the time to connect
    assert 'is back after' in output


def pipeline_command(overrides, tmp_path):
    """`pipeline` as launch_command starts a node, but without __node (three nodes inside)."""
    override_file = tmp_path / 'pipeline_overrides.yaml'
    override_file.write_text(yaml.safe_dump({'/**': {'ros__parameters': overrides}}))
    return [str(executable('pipeline')), '--ros-args', '-r', f'__ns:={NAMESPACE}',
            '--params-file', str(PARAMS_FILE), '--params-file', str(override_file)]


@pytest.mark.slow  # a launched camera process
def test_in_pipeline_a_hanging_camera_delays_neither_preprocess_nor_classifier(
        watcher, camera_server, tmp_path):
    server = camera_server(mode='silent')
    pipeline = start(pipeline_command({'source': server.url}, tmp_path))
    client = watcher.node.create_client(GetParameters, f'{NAMESPACE}/preprocess/get_parameters')
    answers = []
    try:
        assert watcher.spin_until(
            lambda: watcher.of('preprocess') and watcher.of('classifier'), 60.0)
        assert client.wait_for_service(timeout_sec=10.0)
        window_start = time.monotonic()
        for _ in range(4):  # a parameter request every 3 s, across FFmpeg's open timeouts
            asked = time.monotonic()
            future = client.call_async(GetParameters.Request(names=['threshold']))
            watcher.spin_until(future.done, 5.0)
            answers.append((time.monotonic() - asked, future.result()))
            watcher.spin_for(3.0 - (time.monotonic() - asked))
        window_end = time.monotonic()
        seconds, output = stop_as_launch_does(pipeline, signal.SIGINT)
    finally:
        if pipeline.returncode is None:
            stop(pipeline)
    gaps = {name: round(largest_gap([t for t, _ in watcher.of(name)], window_start,
                                    window_end), 2)
            for name in ('preprocess', 'classifier', 'camera')}
    print(f'largest gaps {gaps}; parameter answers after '
          f'{[round(delay, 3) for delay, _ in answers]} s; exit after {seconds:.2f} s')
    assert all(result is not None and result.values[0].integer_value == 100
               for _, result in answers), output
    assert max(delay for delay, _ in answers) < 1.0, output
    assert max(gaps.values()) < 2.0, output
    assert seconds < 2.0 and pipeline.returncode == 0, output


@pytest.mark.slow  # a launched camera process
def test_a_folder_without_a_readable_image_is_an_error_not_an_end(watcher, tmp_path):
    folder = tmp_path / 'frames'
    folder.mkdir()
    for index in range(3):
        (folder / f'img_{index}.png').write_bytes(b'not a png')
    camera = start(launch_command('camera_node', 'camera', NAMESPACE,
                                  {'source': str(folder), 'loop': True}, tmp_path))
    try:
        assert watcher.spin_until(lambda: any(
            s.level == DiagnosticStatus.ERROR for _, s in watcher.of('camera')), 20.0)
        watcher.spin_for(4.0)  # retrying, not ended
        assert camera.poll() is None
    finally:
        output = stop(camera)
    errors = [line for line in output.splitlines() if 'ERROR' in line]
    assert len(errors) == 1, output
    assert 'gave no frame' in errors[0] and 'retrying' in errors[0]
    assert 'ended after' not in output
    last = watcher.of('camera')[-1][1]
    assert last.level == DiagnosticStatus.ERROR
    assert values(last)['camera connected'] == 'False'
    assert 'gave no frame' in values(last)['last error']
    assert not watcher.frames


# --- the capture thread alone: real files, real sockets, real threads ---

def write_images(folder, count):
    folder.mkdir()
    for index in range(count):
        cv2.imwrite(str(folder / f'img_{index:03d}.png'), np.full((24, 32, 3), index, np.uint8))


def take_frames(capture, count, timeout_sec=10.0, pause_sec=0.0):
    frames = []
    deadline = time.monotonic() + timeout_sec
    while len(frames) < count and time.monotonic() < deadline:
        frame = capture.take()
        if frame is None:
            time.sleep(0.005)
            continue
        frames.append(frame)
        time.sleep(pause_sec)
    return frames


def test_a_file_is_handed_over_frame_by_frame_in_order_and_replayed(tmp_path):
    from digit_recognition.core.capture import CaptureThread
    from digit_recognition.core.sources import FrameSource
    write_images(tmp_path / 'frames', 3)
    capture = CaptureThread(FrameSource(str(tmp_path / 'frames'), 0, 0))
    capture.start()
    try:
        # Taken slowly: a file's reader waits for the node, it never skips a frame.
        frames = take_frames(capture, 7, pause_sec=0.05)
        assert capture.connected
    finally:
        assert capture.close()
    assert [int(f.image[0, 0, 0]) for f in frames] == [0, 1, 2, 0, 1, 2, 0]
    assert all(abs(f.captured - time.monotonic()) < 1.0 for f in frames)  # stamped when taken
    assert not capture.events()


def test_a_file_without_loop_ends_after_its_last_frame(tmp_path):
    from digit_recognition.core.capture import CaptureThread
    from digit_recognition.core.sources import FrameSource
    write_images(tmp_path / 'frames', 3)
    capture = CaptureThread(FrameSource(str(tmp_path / 'frames'), 0, 0))
    capture.loop = False
    capture.start()
    try:
        frames = take_frames(capture, 3)
        assert spin_until_true(lambda: capture.ended, 5.0)
        assert capture.take() is None
    finally:
        capture.close()
    assert len(frames) == 3


def spin_until_true(condition, timeout_sec):
    deadline = time.monotonic() + timeout_sec
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_a_source_that_gives_no_frame_is_retried_with_one_error(tmp_path):
    from digit_recognition.core.capture import CaptureThread
    from digit_recognition.core.sources import Backoff, FrameSource
    folder = tmp_path / 'frames'
    folder.mkdir()
    (folder / 'broken.png').write_bytes(b'not a png')
    capture = CaptureThread(FrameSource(str(folder), 0, 0), Backoff(initial=0.02, maximum=0.05))
    capture.start()
    try:
        assert spin_until_true(lambda: capture.backoff.failures >= 5, 5.0)
        assert not capture.connected and not capture.ended
        cv2.imwrite(str(folder / 'good.png'), np.full((24, 32, 3), 9, np.uint8))
        [frame] = take_frames(capture, 1)  # it came back
    finally:
        capture.close()
    events = capture.events()
    assert [level for level, _ in events if level != 'debug'] == ['error', 'info']
    assert 'gave no frame; retrying every 0.02-0.05 s' in events[0][1]
    assert 'is back after' in events[-1][1]
    assert int(frame.image[0, 0, 0]) == 9


def test_a_live_source_keeps_only_its_newest_frame_stamped_at_capture(camera_server):
    from digit_recognition.core.capture import CaptureThread
    from digit_recognition.core.sources import FrameSource
    server = camera_server(answer_after=0.0)
    capture = CaptureThread(FrameSource(server.url, 0, 0))
    capture.start()
    try:
        assert take_frames(capture, 1)
        time.sleep(0.5)  # 15 frames arrive; one waits
        taken = time.monotonic()
        newest = capture.take()
        assert capture.take() is None
        assert capture.connected
    finally:
        capture.close()
    assert 0.0 <= taken - newest.captured < 0.1  # read at most a frame period ago


def test_closing_a_capture_blocked_in_opencv_returns_at_once(camera_server):
    from digit_recognition.core.capture import CaptureThread
    from digit_recognition.core.sources import FrameSource
    capture = CaptureThread(FrameSource(camera_server(mode='silent').url))
    capture.start()
    time.sleep(0.5)  # inside FFmpeg's open now
    began = time.monotonic()
    assert not capture.close(timeout_sec=0.25)  # still blocked: left to its timeout, a daemon
    assert time.monotonic() - began < 0.5
    assert not capture.connected


def test_a_live_frame_wakes_the_node_at_once(camera_server):
    from digit_recognition.core.capture import CaptureThread
    from digit_recognition.core.sources import FrameSource
    server = camera_server(answer_after=0)
    woken = []
    capture = CaptureThread(FrameSource(server.url, 0, 0),
                            on_live_frame=lambda: woken.append(capture.take()))
    capture.start()
    try:
        assert spin_until_true(lambda: len(woken) >= 5, 15.0)
    finally:
        capture.close()
    # Each call found its frame in the slot: the node publishes it without waiting for a timer.
    assert all(frame is not None for frame in woken[:5])


def test_the_rate_allowance_passes_bursts_at_the_rate_and_caps_a_faster_source():
    from digit_recognition.core.capture import RateAllowance
    now = [0.0]

    def published(arrivals, rate=30.0):
        now[0] = arrivals[0]
        allowance = RateAllowance(rate, clock=lambda: now[0])
        count = 0
        for now[0] in arrivals:
            if allowance.available():
                allowance.use()
                count += 1
        return count

    # 30 fps delivered in pairs (a network stream's bursts): every frame passes.
    bursts = [second + pair / 15 + offset for second in range(10) for pair in range(15)
              for offset in (0.0, 0.001)]
    assert published(bursts) == 300
    # 120 fps for ten seconds: capped at 30 a second (plus the initial burst of two).
    assert 299 <= published([index / 120 for index in range(1200)]) <= 302
