"""What every benchmark scenario shares: the programs' paths, brokers, running and measuring
processes. Imported by scripts/bench.py."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TANSU = os.path.join(ROOT, ".tools", "bin", "tansu")
BENCH = os.path.join(ROOT, "bench", "target", "release", "ferry-bench")
FERRY = os.path.join(ROOT, "target", "release", "ferry")
BYTE_ARRAY = "org.apache.kafka.connect.converters.ByteArrayConverter"
NETNS = "ferry-bench-link"


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(host, port, proc, what, timeout=30):
    deadline = time.time() + timeout
    while True:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{what} did not start")
            time.sleep(0.05)


class Broker:
    """One tansu cluster on a free port, behind `link` when given; stopped by close()."""

    def __init__(self, name, link=None):
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix=f"ferry-bench-{name}-", suffix=".log")
        host, advertised = "127.0.0.1", self.port
        prefix = []
        if link is not None and link.kind == "netem":
            host, prefix = "10.201.0.2", ["ip", "netns", "exec", NETNS]
        elif link is not None:
            advertised = free_port()
        self.host, self.advertised = host, advertised
        self.proc = subprocess.Popen(
            prefix + [TANSU, "broker", "--listener-url", f"tcp://{host}:{self.port}",
                      "--advertised-listener-url", f"tcp://{host}:{advertised}",
                      "--storage-engine", "memory://tansu/", "--cluster-id", name],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_port(host, self.port, self.proc, f"broker {name}")
        if link is not None and link.kind == "proxy":
            link.start_proxy(advertised, f"127.0.0.1:{self.port}")

    @property
    def bootstrap(self):
        return f"{self.host}:{self.advertised}"

    def create_topic(self, topic, partitions):
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 3})
        for future in admin.create_topics([NewTopic(topic, partitions, 1)]).values():
            future.result(30)

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()


@dataclass
class Sample:
    records: int
    bytes: int
    seconds: float
    cpu: float
    rss_kb: int


class Unavailable(Exception):
    """The program under test cannot run this scenario yet (not a measurement failure)."""


def attempt(result, runner, keep, label):
    """Runs one measurement of `result` with `runner()` and hands what it returns to `keep`,
    unless an earlier run already failed; a failure becomes the result's figure instead."""
    if result.error or result.unavailable:
        return
    try:
        keep(runner())
    except Unavailable as e:
        result.unavailable = str(e)
    except Exception as e:  # noqa: BLE001 — a failed run is a figure to report
        result.error = " ".join(str(e).split())[:400]
        log(f"{label} failed: {result.error}")


def timed(argv, wall=False):
    """Runs a benchmark program; returns its report with its CPU time and peak RSS. With
    `wall`, the time is the process's whole life (start-up included) rather than its own
    first-to-last-record measure."""
    with tempfile.TemporaryFile() as err:
        start = time.time()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True)
        stdout = proc.stdout.read()
        # wait4 gives this child's own rusage (CPU and peak RSS), unlike RUSAGE_CHILDREN totals.
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.time() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            tail = err.read()[-600:].decode(errors="replace").strip()
            raise RuntimeError(f"{os.path.basename(argv[0])} {argv[1]} exited {code}: {tail}")
    report = json.loads(stdout.strip().splitlines()[-1])
    return Sample(report["records"], report["bytes"], elapsed if wall else report["seconds"],
                  usage.ru_utime + usage.ru_stime, usage.ru_maxrss)


def proc_usage(pid):
    """CPU seconds and peak RSS (KiB) of a running process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.split(":", 1) for line in f if ":" in line)
    return cpu, int(status["VmHWM"].split()[0]), int(status["VmRSS"].split()[0])


def stop(proc, grace=10):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def write_props(path, props):
    with open(path, "w") as f:
        f.writelines(f"{k}={v}\n" for k, v in props.items())


def standalone_props(tmp, bootstrap, rest_port, **extra):
    """Writes `worker.properties` in `tmp` for `ferry standalone` (byte-array converters, an
    offsets file in `tmp`, REST on `rest_port`) and returns its path."""
    path = os.path.join(tmp, "worker.properties")
    write_props(path, {
        "bootstrap.servers": bootstrap,
        "key.converter": BYTE_ARRAY,
        "value.converter": BYTE_ARRAY,
        "offset.storage.file.filename": os.path.join(tmp, "offsets"),
        "listeners": f"http://127.0.0.1:{rest_port}",
        **extra,
    })
    return path


def flow_props(source, target):
    """What every MirrorMaker 2 connector of the benchmarks' flow src -> dst (topic `bench`)
    is configured with: aliases, clusters, byte-array converters, replication factor 1."""
    return {
        "source.cluster.alias": "src",
        "target.cluster.alias": "dst",
        "source.cluster.bootstrap.servers": source.bootstrap,
        "target.cluster.bootstrap.servers": target.bootstrap,
        "topics": "bench",
        "key.converter": BYTE_ARRAY,
        "value.converter": BYTE_ARRAY,
        "replication.factor": "1",
        "offset-syncs.topic.replication.factor": "1",
    }


def ferry_has(subcommand):
    if not os.path.exists(FERRY):
        return False
    done = subprocess.run([FERRY, "--help"], capture_output=True, text=True)
    return subcommand in done.stdout


def wait_rest(port, proc, start, timeout=60):
    while time.time() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"ferry standalone exited {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as answer:
                if answer.status == 200:
                    return time.time() - start
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"GET / did not answer within {timeout} s")


def preload(broker, topic, records, size, partitions):
    timed([BENCH, "rdkafka-produce", "--bootstrap", broker.bootstrap, "--topic", topic,
           "--records", str(records), "--size", str(size), "--partitions", str(partitions)])
