"""What the benchmark scripts share: child processes, /proc sampling, statistics, outputs.

Not part of the package or its tests. Run the scripts with the project's .venv python.
"""

import datetime
import json
import os
from pathlib import Path
import platform
import random
import signal
import subprocess
import sys
import threading
import time

import numpy as np

from digit_recognition.ros.transport import profile_variables

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PARAMS_FILE = REPO / 'config' / 'params.yaml'
SHIPPED_PROFILE = REPO / 'config' / 'fastdds.xml'
SAMPLE_VIDEO = REPO / 'samples' / 'digits.mp4'
MNIST_SAMPLE = REPO / 'test' / 'data' / 'mnist_sample.npz'
RESULTS_DIR = Path(__file__).resolve().parent / 'results'
CLOCK_TICKS = os.sysconf('SC_CLK_TCK')
PROFILE_VARIABLES = ('FASTDDS_DEFAULT_PROFILES_FILE', 'FASTRTPS_DEFAULT_PROFILES_FILE')
# A valid profile file with no profile in it: Fast DDS keeps all its built-in defaults
# (512 KB shared-memory segment). `<profiles/>` would log "Could not extract any profile".
EMPTY_PROFILE_XML = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                     '<dds xmlns="http://www.eprosima.com">\n</dds>\n')


# --- environment -------------------------------------------------------------------------

def isolate_ros(domain_id=None):
    """A random DDS domain (101-200) on this host only, for this process and its children.

    Tests use domains 1-100; a benchmark must not hear them, nor they it.
    """
    domain_id = domain_id or random.randint(101, 200)
    os.environ['ROS_DOMAIN_ID'] = str(domain_id)
    os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    os.environ['PYTHONUNBUFFERED'] = '1'  # log lines reach the log files as they happen
    # The listener in this process gets the shipped profile, as the nodes would.
    os.environ.update(profile_environment(SHIPPED_PROFILE))
    return domain_id


def profile_environment(profile):
    """os.environ with the Fast DDS profile file set to `profile`, in every name it reads."""
    env = {k: v for k, v in os.environ.items() if k not in PROFILE_VARIABLES}
    for name in profile_variables():
        env[name] = str(profile)
    return env


def write_empty_profile(folder):
    path = Path(folder) / 'default_dds.xml'
    path.write_text(EMPTY_PROFILE_XML)
    return path


def check_profile(profile):
    """Start one ROS participant with `profile`; raise if Fast DDS logs any error."""
    code = ('import rclpy; rclpy.init(); node = rclpy.create_node("profile_check"); '
            'node.destroy_node(); rclpy.shutdown()')
    result = subprocess.run([sys.executable, '-c', code], env=profile_environment(profile),
                            capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    if result.returncode != 0 or 'Error' in output:
        raise RuntimeError(f'Fast DDS does not accept {profile}:\n{output}')


def machine_info():
    """Where and when: cores, load, commit, so results from different runs can be compared."""
    try:
        commit = subprocess.run(['git', 'describe', '--always', '--dirty'], cwd=REPO,
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = None
    cpu_model = None
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            cpu_model = next((line.split(':', 1)[1].strip() for line in cpuinfo
                              if line.startswith('model name')), None)
    except OSError:
        pass
    return {'time': datetime.datetime.now().isoformat(timespec='seconds'),
            'cpus': os.cpu_count(), 'cpu_model': cpu_model, 'loadavg': os.getloadavg(),
            'python': platform.python_version(), 'commit': commit,
            'ros_domain_id': os.environ.get('ROS_DOMAIN_ID')}


def load_text(load):
    return ' / '.join(f'{value:.2f}' for value in load)


def stop_on_sigterm():
    """Turn SIGTERM into SystemExit so `finally` blocks stop the children."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


# --- child processes -----------------------------------------------------------------------

def ros_command(executable, params=None):
    """An executable of the package with the shipped params file and `-p` overrides."""
    command = [str(BIN / executable), '--ros-args', '--params-file', str(PARAMS_FILE)]
    for name, value in (params or {}).items():
        command += ['-p', f'{name}:={value}']
    return command


class Child:
    """A child process whose output goes to a log file; stopped with SIGINT, then killed."""

    def __init__(self, name, command, env, log_dir):
        self.name = name
        self.command = command
        self.log_path = Path(log_dir) / f'{name}.log'
        self._log = open(self.log_path, 'w')
        self.started = time.monotonic()
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=env, cwd=REPO)
        self.pid = self.process.pid

    def running(self):
        return self.process.poll() is None

    def stop(self, timeout=10.0):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode

    def output(self):
        return self.log_path.read_text(errors='replace')

    def tail(self, lines=15):
        return '\n'.join(self.output().splitlines()[-lines:])


class Children:
    """Children started together and always stopped, in reverse order, on leaving the block."""

    def __init__(self, log_dir):
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.children = {}

    def start(self, name, command, env):
        self.children[name] = Child(name, command, env, self.log_dir)
        return self.children[name]

    def __getitem__(self, name):
        return self.children[name]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for child in reversed(list(self.children.values())):
            child.stop()
        return False

    def pids(self):
        return {name: child.pid for name, child in self.children.items()}

    def failed(self):
        """The first child that exited with an error, or None."""
        return next((child for child in self.children.values()
                     if child.process.poll() not in (None, 0)), None)

    def logs(self, lines=15):
        return '\n'.join(f'--- {child.name} ({child.log_path}):\n{child.tail(lines)}'
                         for child in self.children.values())


def wait_until(condition, timeout, children=None, interval=0.05):
    """Poll condition() until true; False on timeout; RuntimeError if a child failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if children is not None and children.failed() is not None:
            raise RuntimeError(f'{children.failed().name} exited early:\n{children.logs()}')
        time.sleep(interval)
    return condition()


# --- /proc sampling --------------------------------------------------------------------------

def read_process(pid):
    """(CPU seconds used, RSS MB, peak RSS MB) of a live process from /proc; None if gone."""
    try:
        with open(f'/proc/{pid}/stat') as stat_file:
            stat = stat_file.read()
        with open(f'/proc/{pid}/status') as status_file:
            status = status_file.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: fields start after the last ')'.
    fields = stat[stat.rindex(')') + 2:].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    memory = {}
    for line in status.splitlines():
        key, _, value = line.partition(':')
        if key in ('VmRSS', 'VmHWM'):
            memory[key] = int(value.split()[0]) / 1024
    if 'VmRSS' not in memory:  # a zombie: exited, not yet reaped
        return None
    return cpu, memory['VmRSS'], memory.get('VmHWM', memory['VmRSS'])


def read_machine_busy():
    """CPU seconds all cores spent busy since boot (everything but idle and iowait)."""
    with open('/proc/stat') as stat_file:
        values = [int(v) for v in stat_file.readline().split()[1:]]
    return (sum(values) - values[3] - values[4]) / CLOCK_TICKS


class Sampler:
    """Samples CPU time and memory of named processes (and the machine) in a thread."""

    def __init__(self, pids, interval=0.5):
        self.pids = dict(pids)
        self.interval = interval
        self.samples = []  # (monotonic time, machine busy s, {name: read_process() or None})
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False

    def _sample(self):
        self.samples.append((time.monotonic(), read_machine_busy(),
                             {name: read_process(pid) for name, pid in self.pids.items()}))

    def _run(self):
        while not self._stop.wait(self.interval):
            self._sample()

    def usage(self, start, end):
        """Per process, between the first and last sample in [start, end] where it was alive:
        CPU % of one core, RSS MB at the start and end, peak RSS MB; plus the whole
        machine's busy % (of one core: 200 % is two cores busy)."""
        window = [s for s in self.samples if start <= s[0] <= end]
        result = {}
        for name in self.pids:
            alive = [(t, s[name]) for t, _, s in window if s.get(name) is not None]
            if len(alive) < 2:
                result[name] = dict.fromkeys(
                    ('cpu_percent', 'rss_start_mb', 'rss_mb', 'peak_rss_mb'))
                continue
            (t0, first), (t1, last) = alive[0], alive[-1]
            result[name] = {'cpu_percent': 100.0 * (last[0] - first[0]) / (t1 - t0),
                            'rss_start_mb': first[1], 'rss_mb': last[1],
                            'peak_rss_mb': max(s[2] for _, s in alive)}
        machine = None
        if len(window) >= 2:
            machine = 100.0 * (window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0])
        return {'processes': result, 'machine_busy_percent': machine,
                'seconds': window[-1][0] - window[0][0] if len(window) >= 2 else 0.0}

    def series(self, name):
        """(times, CPU % of one core, RSS MB) between consecutive samples, for plots."""
        points = [(t, s[name]) for t, _, s in self.samples if s.get(name) is not None]
        times, cpu, rss = [], [], []
        for (t0, a), (t1, b) in zip(points, points[1:]):
            times.append(t1)
            cpu.append(100.0 * (b[0] - a[0]) / (t1 - t0))
            rss.append(b[1])
        return times, cpu, rss


# --- statistics and formatting -----------------------------------------------------------------

def summary(values):
    """n, p50, p90, p99, mean, min, max of a list of numbers (None where there are none)."""
    values = np.asarray(values, dtype=np.float64)
    keys = ('p50', 'p90', 'p99', 'mean', 'min', 'max')
    if values.size == 0:
        return {'n': 0, **dict.fromkeys(keys)}
    p50, p90, p99 = np.percentile(values, [50, 90, 99])
    return {'n': int(values.size), 'p50': float(p50), 'p90': float(p90), 'p99': float(p99),
            'mean': float(values.mean()), 'min': float(values.min()),
            'max': float(values.max())}


def met(value, limit, at_most=True):
    """'met' or 'MISSED' for a target (value <= limit, or >= with at_most=False)."""
    if value is None:
        return 'no data'
    return 'met' if (value <= limit if at_most else value >= limit) else 'MISSED'


def fmt(value, digits=1, suffix=''):
    """A number for a table; '-' for a missing one."""
    if value is None:
        return '-'
    if isinstance(value, (int, np.integer)):
        return f'{value}{suffix}'
    return f'{value:.{digits}f}{suffix}'


def _numeric(cell):
    text = str(cell).lstrip('<>~')
    return text == '-' or text[:1].isdigit() or (text[:1] == '-' and text[1:2].isdigit())


def markdown_table(headers, rows):
    """A markdown table; columns of numbers are right-aligned."""
    numeric = [all(_numeric(row[i]) for row in rows) for i in range(len(headers))]
    lines = ['| ' + ' | '.join(headers) + ' |',
             '|' + '|'.join('---:' if right else '---' for right in numeric) + '|']
    lines += ['| ' + ' | '.join(str(cell) for cell in row) + ' |' for row in rows]
    return '\n'.join(lines)


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib  # noqa: PLC0415 - only the scripts that plot pay for it
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt  # noqa: PLC0415
    return plt


def write_outputs(output_dir, name, data, markdown, figure=None):
    """name.json, name.md and name.png in output_dir; returns their paths."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = [output_dir / f'{name}.json', output_dir / f'{name}.md']
    paths[0].write_text(json.dumps(data, indent=2, default=_jsonable) + '\n')
    paths[1].write_text(markdown + '\n')
    if figure is not None:
        paths.append(output_dir / f'{name}.png')
        figure.savefig(paths[2], dpi=110, bbox_inches='tight')
    return paths


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (Path, np.ndarray)):
        return str(value) if isinstance(value, Path) else value.tolist()
    raise TypeError(f'cannot write {type(value).__name__} as JSON')


# --- a ROS listener in this process ------------------------------------------------------------

class RosListener:
    """One node of this process, spun in a background thread, for the scripts to listen with.

    Its own rclpy context without signal handlers: Ctrl-C stays a KeyboardInterrupt in the
    main thread, whose `finally` stops the children.
    """

    def __init__(self, name):
        import rclpy  # noqa: PLC0415 - after isolate_ros() has set the domain
        from rclpy.context import Context  # noqa: PLC0415
        from rclpy.executors import SingleThreadedExecutor  # noqa: PLC0415
        from rclpy.signals import SignalHandlerOptions  # noqa: PLC0415

        self._rclpy = rclpy
        self.context = Context()
        rclpy.init(context=self.context, signal_handler_options=SignalHandlerOptions.NO)
        self.node = rclpy.create_node(name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.setup()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def setup(self):
        """Create subscriptions here (subclasses): called before the spinning starts."""

    def _spin(self):
        from rclpy.executors import ExternalShutdownException  # noqa: PLC0415
        try:
            self.executor.spin()
        except ExternalShutdownException:
            pass

    def close(self):
        self.executor.shutdown()
        self._thread.join(timeout=5)
        self.node.destroy_node()
        self._rclpy.try_shutdown(context=self.context)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
