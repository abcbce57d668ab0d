"""Ferry's benchmarks, run by scripts/bench with the project's virtualenv.

Every figure is measured against a reference in the same run: the librdkafka programs of
bench/ (built from source by the rdkafka crate), on the same freshly started brokers, with the
median of several runs. CPU seconds and peak resident memory are the whole process's, read from
wait4()'s rusage.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TANSU = os.path.join(ROOT, ".tools", "bin", "tansu")
BENCH = os.path.join(ROOT, "bench", "target", "release", "ferry-bench")
MARK_BEGIN = "<!-- bench:begin -->"
MARK_END = "<!-- bench:end -->"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """One tansu cluster on a free port, stopped by close()."""

    def __init__(self, name):
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix=f"ferry-bench-{name}-", suffix=".log")
        self.proc = subprocess.Popen(
            [TANSU, "broker", "--listener-url", f"tcp://127.0.0.1:{self.port}",
             "--advertised-listener-url", f"tcp://127.0.0.1:{self.port}",
             "--storage-engine", "memory://tansu/", "--cluster-id", name],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"broker {name} did not start")
                time.sleep(0.05)

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def create_topic(self, topic, partitions):
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
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


def timed(argv):
    """Runs a benchmark program; returns its report with its CPU time and peak RSS."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True)
        stdout = proc.stdout.read()
        # wait4 gives this child's own rusage (CPU and peak RSS), unlike RUSAGE_CHILDREN totals.
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            tail = err.read()[-2000:].decode(errors="replace")
            raise RuntimeError(f"{' '.join(argv)} exited {code}:\n{tail}")
    report = json.loads(stdout.strip().splitlines()[-1])
    return Sample(report["records"], report["bytes"], report["seconds"],
                  usage.ru_utime + usage.ru_stime, usage.ru_maxrss)


@dataclass
class Result:
    name: str
    shape: str
    program: str
    samples: list = field(default_factory=list)

    def median(self, attr):
        return statistics.median(getattr(s, attr) for s in self.samples)

    @property
    def records_per_s(self):
        return statistics.median(s.records / s.seconds for s in self.samples)

    @property
    def mb_per_s(self):
        return statistics.median(s.bytes / s.seconds / 1e6 for s in self.samples)

    @property
    def cpu_per_gb(self):
        return statistics.median(s.cpu / (s.bytes / 1e9) for s in self.samples)


def bench_produce(size, records, partitions, runs, programs):
    results = {p: Result(f"produce {size} B", f"{records:,} × {size} B, {partitions} partitions",
                         p) for p in programs}
    for _ in range(runs):
        for program in programs:
            broker = Broker("produce")
            try:
                broker.create_topic("bench", partitions)
                results[program].samples.append(timed(
                    [BENCH, f"{program}-produce", "--bootstrap", broker.bootstrap,
                     "--topic", "bench", "--records", str(records), "--size", str(size),
                     "--partitions", str(partitions)]))
            finally:
                broker.close()
    return list(results.values())


def bench_consume(size, records, partitions, runs, programs):
    results = {p: Result(f"consume {size} B", f"{records:,} × {size} B, {partitions} partitions",
                         p) for p in programs}
    for _ in range(runs):
        broker = Broker("consume")
        try:
            broker.create_topic("bench", partitions)
            timed([BENCH, "rdkafka-produce", "--bootstrap", broker.bootstrap, "--topic", "bench",
                   "--records", str(records), "--size", str(size),
                   "--partitions", str(partitions)])
            for program in programs:
                results[program].samples.append(timed(
                    [BENCH, f"{program}-consume", "--bootstrap", broker.bootstrap,
                     "--topic", "bench", "--records", str(records),
                     "--partitions", str(partitions)]))
        finally:
            broker.close()
    return list(results.values())


def table(results, reference="rdkafka"):
    lines = ["| benchmark | shape | program | records/s | MB/s | CPU s/GB | peak RSS MB | "
             "vs reference (records/s, CPU) |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |"]
    by_name = {}
    for r in results:
        by_name.setdefault(r.name, {})[r.program] = r
    for name, group in by_name.items():
        ref = group.get(reference)
        for program, r in group.items():
            ratio = "reference" if program == reference or ref is None else (
                f"{r.records_per_s / ref.records_per_s:.2f}× speed, "
                f"{r.cpu_per_gb / ref.cpu_per_gb:.2f}× CPU")
            lines.append(f"| {name} | {r.shape} | {program} | {r.records_per_s:,.0f} | "
                         f"{r.mb_per_s:,.1f} | {r.cpu_per_gb:.2f} | "
                         f"{r.median('rss_kb') / 1024:.0f} | {ratio} |")
    return "\n".join(lines)


def update_benchmarks_md(text, runs):
    path = os.path.join(ROOT, "BENCHMARKS.md")
    with open(path) as f:
        doc = f.read()
    begin, end = doc.index(MARK_BEGIN) + len(MARK_BEGIN), doc.index(MARK_END)
    stamp = (f"\nMeasured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores, median of "
             f"{runs} runs, `scripts/bench`.\n\n")
    with open(path, "w") as f:
        f.write(doc[:begin] + stamp + text + "\n" + doc[end:])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the records")
    parser.add_argument("--update", action="store_true", help="write the table to BENCHMARKS.md")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    programs = ["rdkafka", "ferry"]

    results = []
    for size, records in ((100, 2_000_000), (1024, 500_000)):
        results += bench_produce(size, records // scale, 3, args.runs, programs)
        results += bench_consume(size, records // scale, 3, args.runs, programs)
    text = table(results)
    print(text)
    if args.update:
        update_benchmarks_md(text, args.runs)


if __name__ == "__main__":
    sys.exit(main())
