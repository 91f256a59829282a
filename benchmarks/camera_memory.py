"""Camera node memory against frames published: does its RSS grow per frame, or level off?

    .venv/bin/python benchmarks/camera_memory.py [--frames 18000] [--fps 30 240] [--output DIR]

The soak's camera gains RSS in steps of about one 640x480 bgr8 frame (0.9 MB). This runs
camera_node alone (shipped params file and Fast DDS profile) on the soak's video (90 empty
frames, then the sample video's frames: `--frames` in all, loop:=false), once per `--fps`,
with this process subscribed to image_raw (best effort, as preprocess), and samples the
node's RSS every second. A leak grows with the frames published, whatever the rate; a
high-water mark of frame buffers is reached sooner at a higher rate and then stays.
"""

import argparse
import os
from pathlib import Path
import sys
import tempfile
import threading
import time

import common

DEFAULT_FRAMES = 18000
DEFAULT_FPS = (30.0, 240.0)
WARM_UP_FRAMES = 1000  # growth is counted from here: imports, DDS and first buffers are done


class FrameCounter(common.RosListener):

    def setup(self):
        from rclpy.qos import qos_profile_sensor_data  # noqa: PLC0415
        from sensor_msgs.msg import Image  # noqa: PLC0415

        self._lock = threading.Lock()
        self.heard = 0
        self.node.create_subscription(Image, 'image_raw', self._on_frame,
                                      qos_profile_sensor_data)

    def _on_frame(self, msg):
        with self._lock:
            self.heard += 1


def run_once(video, fps, listener, log_dir):
    heard_before = listener.heard
    params = {'source': video, 'loop': 'false', 'framerate': f'{fps:.1f}'}
    samples = []  # (seconds since start, frames heard, RSS MB)
    with common.Children(log_dir) as children:
        camera = children.start('camera', common.ros_command('camera_node', params),
                                common.profile_environment(common.SHIPPED_PROFILE))
        started = time.monotonic()
        while camera.running():
            usage = common.read_process(camera.pid)
            if usage is not None:
                samples.append((time.monotonic() - started, listener.heard - heard_before,
                                usage[1]))
            time.sleep(1.0)
        if camera.process.returncode != 0:
            raise RuntimeError(f'camera exited with {camera.process.returncode}:\n'
                               f'{children.logs()}')
    warm = next((s for s in samples if s[1] >= WARM_UP_FRAMES), samples[-1])
    return {'fps': fps, 'frames_heard': listener.heard - heard_before,
            'seconds': samples[-1][0], 'rss_warm_mb': warm[2], 'rss_end_mb': samples[-1][2],
            'rss_max_mb': max(s[2] for s in samples), 'samples': samples}


def report(runs, frames, before, after):
    rows = [[common.fmt(r['fps'], 0), r['frames_heard'], common.fmt(r['seconds'], 0),
             common.fmt(r['rss_warm_mb'], 1), common.fmt(r['rss_end_mb'], 1),
             common.fmt(r['rss_end_mb'] - r['rss_warm_mb'], 1), common.fmt(r['rss_max_mb'], 1)]
            for r in runs]
    markdown = '\n'.join([
        f'## Camera node RSS over {frames} frames', '',
        'camera_node alone, loop:=false, this process subscribed best effort. "warm": the '
        f'first sample after {WARM_UP_FRAMES} frames were heard.', '',
        common.markdown_table(['fps', 'frames heard', 'seconds', 'RSS warm MB', 'RSS end MB',
                               'growth MB', 'RSS max MB'], rows),
        '', f'Load average (1/5/15 min) before: {common.load_text(before)}, after: '
        f'{common.load_text(after)}.'])
    plt = common.pyplot()
    figure, axes = plt.subplots(figsize=(8, 4))
    for r in runs:
        axes.plot([s[1] for s in r['samples']], [s[2] for s in r['samples']],
                  label=f'{r["fps"]:g} fps')
    axes.set_xlabel('frames heard')
    axes.set_ylabel('camera RSS MB')
    axes.legend()
    figure.tight_layout()
    data = {'machine': common.machine_info(), 'loadavg_before': before, 'loadavg_after': after,
            'frames': frames, 'runs': runs}
    return markdown, data, figure


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--frames', type=int, default=DEFAULT_FRAMES)
    parser.add_argument('--fps', type=float, nargs='+', default=list(DEFAULT_FPS))
    parser.add_argument('--quick', action='store_true', help='2000 frames at 240 fps')
    parser.add_argument('--output', type=Path)
    args = parser.parse_args()
    if args.quick:
        args.frames, args.fps = 2000, [240.0]
    output = args.output or common.REPO / 'benchmarks' / 'results' / (
        'quick' if args.quick else '')
    common.isolate_ros()
    common.stop_on_sigterm()
    from end_to_end.scenarios import Videos  # noqa: PLC0415 - needs benchmarks/ on the path

    before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix='digit_bench_') as folder, \
            FrameCounter('camera_memory_listener') as listener:
        video = Videos(folder).get(90, args.frames - 90)
        runs = [run_once(video, fps, listener, Path(folder) / 'logs') for fps in args.fps]
    markdown, data, figure = report(runs, args.frames, before, os.getloadavg())
    print(markdown)
    paths = common.write_outputs(output, 'camera_memory', data, markdown, figure)
    print('\nwrote ' + ', '.join(str(p) for p in paths))
    return 0


if __name__ == '__main__':
    sys.exit(main())
