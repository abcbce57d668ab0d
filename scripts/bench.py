"""Ferry's benchmarks, run by scripts/bench with the project's virtualenv.

Every figure is measured against a reference in the same run, on freshly started tansu brokers,
as the median of --runs runs. The references are the librdkafka programs of bench/ (librdkafka
built from source by the rdkafka crate): what a user could write without any framework. CPU
seconds and peak resident memory are the whole process's: wait4()'s rusage for programs that
exit, /proc for a worker that keeps running.

Scenarios (--only NAME):
  client       produce and consume throughput, 100 B and 1 KiB records, Ferry's client vs librdkafka
  replication  copying records between two clusters: librdkafka pipe vs Ferry's MirrorSourceConnector
  distance     the same copy across a 50 ms round-trip link vs loopback, default settings
  worker       start-up time to a serving REST API, resident memory idle and running MirrorMaker
               2's three connectors, fail-over after SIGKILL of one of three distributed workers
"""

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

sys.dont_write_bytecode = True  # keep the checkout free of __pycache__ folders
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "bench", "py"))
from common import (BENCH, FERRY, NETNS, ROOT, Broker, Sample, Unavailable,  # noqa: E402
                    attempt, ferry_has, flow_props, free_port, log, preload, proc_usage,
                    standalone_props, stop, timed, wait_port, write_props)
from workers import bench_worker, failover_table, worker_table  # noqa: E402

MARK_BEGIN = "<!-- bench:begin -->"
MARK_END = "<!-- bench:end -->"
SCENARIOS = ("client", "replication", "distance", "worker")
SECTION_TITLES = ("Summary", "Client throughput", "Replication between two clusters",
                  "Long distance", "Worker start-up and memory", "Fail-over")
MIRROR_SOURCE = "org.apache.kafka.connect.mirror.MirrorSourceConnector"


# --- the latency link -------------------------------------------------------------------------


def sh(*argv):
    return subprocess.run(argv, capture_output=True, text=True)


class Link:
    """A link with an added round-trip time between the clients and a broker.

    netem on a veth pair into a network namespace when the kernel has `sch_netem`; otherwise
    `ferry-bench delay-proxy`, a userspace TCP relay that delays each direction by rtt/2 (the
    broker then advertises the relay's address, so every connection crosses it).
    """

    def __init__(self, rtt_ms):
        self.rtt_ms = rtt_ms
        self.kind = "netem" if self._netem_works() else "proxy"
        if self.kind == "netem":
            self._setup_netem()
        self.procs = []

    @staticmethod
    def _netem_works():
        probe = f"{NETNS}-probe"
        if sh("ip", "netns", "add", probe).returncode != 0:
            return False
        try:
            return sh("ip", "netns", "exec", probe, "tc", "qdisc", "add", "dev", "lo", "root",
                      "netem", "delay", "1ms").returncode == 0
        finally:
            sh("ip", "netns", "del", probe)

    def _setup_netem(self):
        # Half the delay on each end of the veth pair; a large queue limit so netem's default
        # 1000-packet queue does not cap the bandwidth-delay product.
        sh("ip", "netns", "del", NETNS)
        half = f"{self.rtt_ms / 2}ms"
        steps = [
            ["ip", "netns", "add", NETNS],
            ["ip", "link", "add", "fbench0", "type", "veth", "peer", "name", "fbench1"],
            ["ip", "link", "set", "fbench1", "netns", NETNS],
            ["ip", "addr", "add", "10.201.0.1/30", "dev", "fbench0"],
            ["ip", "link", "set", "fbench0", "up"],
            ["ip", "netns", "exec", NETNS, "ip", "addr", "add", "10.201.0.2/30", "dev", "fbench1"],
            ["ip", "netns", "exec", NETNS, "ip", "link", "set", "fbench1", "up"],
            ["ip", "netns", "exec", NETNS, "ip", "link", "set", "lo", "up"],
            ["tc", "qdisc", "add", "dev", "fbench0", "root", "netem", "delay", half,
             "limit", "100000"],
            ["ip", "netns", "exec", NETNS, "tc", "qdisc", "add", "dev", "fbench1", "root",
             "netem", "delay", half, "limit", "100000"],
        ]
        for step in steps:
            done = sh(*step)
            if done.returncode != 0:
                sh("ip", "netns", "del", NETNS)
                raise RuntimeError(f"{' '.join(step)}: {done.stderr.strip()}")

    @property
    def description(self):
        how = "netem on a veth pair" if self.kind == "netem" else "userspace delay proxy"
        return f"{self.rtt_ms:g} ms RTT ({how})"

    def start_proxy(self, listen, upstream):
        self.procs.append(delay_proxy(listen, upstream, self.rtt_ms))

    def close(self):
        for proc in self.procs:
            proc.kill()
            proc.wait()
        if self.kind == "netem":
            sh("ip", "netns", "del", NETNS)


def delay_proxy(listen, upstream, rtt_ms):
    proc = subprocess.Popen([BENCH, "delay-proxy", "--listen", str(listen), "--upstream",
                             upstream, "--rtt-ms", str(rtt_ms)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port("127.0.0.1", listen, proc, "delay proxy")
    return proc


def link_self_check(rtt_ms):
    """Measures the proxy itself: bare TCP throughput at 0 ms against a direct connection, and
    the round trip at `rtt_ms`. Returns a sentence for the report."""
    port = free_port()
    listener = socket.socket()
    listener.bind(("127.0.0.1", port))
    listener.listen(8)

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return

            def echo(conn):
                while data := conn.recv(1 << 20):
                    if data == b"p":
                        conn.sendall(b"q")
                conn.close()
            threading.Thread(target=echo, args=(conn,), daemon=True).start()
    threading.Thread(target=serve, daemon=True).start()

    def bulk(p, total=1 << 30):
        s = socket.create_connection(("127.0.0.1", p))
        buf, sent, start = b"x" * (1 << 20), 0, time.time()
        while sent < total:
            s.sendall(buf)
            sent += len(buf)
        s.shutdown(socket.SHUT_WR)
        s.recv(1)
        s.close()
        return total / (time.time() - start) / 1e6

    def round_trip(p):
        s = socket.create_connection(("127.0.0.1", p))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        times = []
        for _ in range(11):
            start = time.time()
            s.sendall(b"p")
            s.recv(1)
            times.append((time.time() - start) * 1000)
        s.close()
        return statistics.median(times)

    direct = bulk(port)
    figures = {}
    for rtt in (0, rtt_ms):
        listen = free_port()
        proxy = delay_proxy(listen, f"127.0.0.1:{port}", rtt)
        try:
            figures[rtt] = (bulk(listen), round_trip(listen))
        finally:
            proxy.kill()
            proxy.wait()
    listener.close()
    return (f"Delay proxy self-check: a bare TCP stream through it at 0 ms moved "
            f"{figures[0][0]:,.0f} MB/s (direct: {direct:,.0f} MB/s; the Python sender is the "
            f"limit), and a ping-pong at {rtt_ms:g} ms took {figures[rtt_ms][1]:.1f} ms.")


# --- measuring --------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    shape: str
    program: str
    samples: list = field(default_factory=list)
    error: str | None = None
    unavailable: str | None = None

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

    def measure(self, runner):
        """Adds one sample from `runner()`, unless an earlier run already failed."""
        attempt(self, runner, self.samples.append, f"{self.name} / {self.program}")


# --- scenario (a): client throughput ----------------------------------------------------------


# Both producers batch as Java's client does by default (Ferry's client keeps Java's defaults;
# librdkafka's own batch.size is 1,000,000): the test broker spends about as long on a small
# batch as on a large one, so unequal batch sizes would measure the broker, not the clients.
JAVA_BATCH_SIZE = 16384


def bench_client(opts):
    results = []
    for size, records in ((100, 2_000_000), (1024, 500_000)):
        records //= opts.scale
        partitions = 3
        shape = f"{records:,} × {size} B, {partitions} partitions, 1 client, loopback"
        consume_shape = f"{shape}, fetch wait {opts.consume_fetch_wait_ms} ms"
        produce_shape = f"{shape}, batch.size {JAVA_BATCH_SIZE:,} B"
        produce = {p: Result(f"produce {size} B", produce_shape, p) for p in opts.programs}
        consume = {p: Result(f"consume {size} B", consume_shape, p)
                   for p in opts.programs}
        for run in range(opts.runs):
            log(f"client {size} B, run {run + 1}/{opts.runs}")
            for program in opts.programs:
                broker = Broker("produce")
                try:
                    broker.create_topic("bench", partitions)
                    produce[program].measure(lambda: timed(
                        [BENCH, f"{program}-produce", "--bootstrap", broker.bootstrap,
                         "--topic", "bench", "--records", str(records), "--size", str(size),
                         "--partitions", str(partitions),
                         "--batch-size", str(JAVA_BATCH_SIZE)]))
                finally:
                    broker.close()
            broker = Broker("consume")
            try:
                broker.create_topic("bench", partitions)
                preload(broker, "bench", records, size, partitions)
                for program in opts.programs:
                    consume[program].measure(lambda: timed(
                        [BENCH, f"{program}-consume", "--bootstrap", broker.bootstrap,
                         "--topic", "bench", "--records", str(records),
                         "--partitions", str(partitions),
                         "--fetch-wait-ms", str(opts.consume_fetch_wait_ms)]))
            finally:
                broker.close()
        results += list(produce.values()) + list(consume.values())
    return results


# --- scenarios (b) and (c): replication -------------------------------------------------------


def pipe_sample(source, target, records, partitions, opts):
    return timed([BENCH, "rdkafka-pipe", "--source", source.bootstrap, "--target",
                  target.bootstrap, "--topic", "bench", "--records", str(records),
                  "--partitions", str(partitions)] + opts.fetch_wait_args, wall=True)


def mirror_sample(source, target, records, size, partitions, opts):
    """Runs Ferry's MirrorSourceConnector in `ferry standalone` until the target holds every
    record (counted from Fetch high watermarks); the time includes the worker's start-up, as
    the pipe's does."""
    if not ferry_has("standalone"):
        raise Unavailable("`ferry standalone` not built yet")
    with tempfile.TemporaryDirectory(prefix="ferry-bench-mm2-") as tmp:
        worker = standalone_props(tmp, target.bootstrap, free_port())
        connector = os.path.join(tmp, "mirror-source.properties")
        connector_props = {
            "name": "bench-mirror",
            "connector.class": MIRROR_SOURCE,
            "tasks.max": "1",
            **flow_props(source, target),
            "sync.topic.acls.enabled": "false",
        }
        if opts.fetch_wait_ms is not None:
            connector_props["consumer.fetch.max.wait.ms"] = str(opts.fetch_wait_ms)
        write_props(connector, connector_props)
        with tempfile.TemporaryFile() as err:
            start = time.time()
            ferry = subprocess.Popen([FERRY, "standalone", worker, connector],
                                     stdout=subprocess.DEVNULL, stderr=err)
            watcher = subprocess.Popen(
                [BENCH, "wait-records", "--bootstrap", target.bootstrap, "--topic",
                 "src.bench", "--records", str(records), "--partitions", str(partitions),
                 "--timeout-s", str(opts.copy_timeout)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                while watcher.poll() is None and ferry.poll() is None:
                    time.sleep(0.01)
                elapsed = time.time() - start
                if ferry.poll() is not None:
                    err.seek(0)
                    tail = err.read()[-600:].decode(errors="replace").strip()
                    tail = tail.splitlines()[-1] if tail else ""
                    tail = tail.replace(f"invalid connector configuration {connector}: ", "")
                    reason = f"ferry standalone exited {ferry.returncode}: {tail}"
                    if "MirrorSourceConnector" in tail:
                        raise Unavailable(reason)
                    raise RuntimeError(reason)
                if watcher.returncode != 0:
                    why = (watcher.stderr.read().strip().splitlines() or ["no output"])[0]
                    raise RuntimeError(f"copy incomplete: {why.removeprefix('Error: ')}")
                cpu, peak_kb, _ = proc_usage(ferry.pid)
            finally:
                watcher.kill()
                watcher.wait()
                stop(ferry)
    return Sample(records, records * size, elapsed, cpu, peak_kb)


def bench_copy(opts, link=None):
    records, size, partitions = 1_000_000 // opts.scale, 512, 3
    where = link.description if link else "loopback"
    crossing = " (source behind the link)" if link else ""
    shape = (f"{records:,} × {size} B, {partitions} partitions, 1 task, "
             f"fetch wait {opts.fetch_wait_label}, {where}{crossing}")
    name = f"copy over {where}" if link else "copy between clusters"
    results = {
        "rdkafka": Result(name, shape, "rdkafka pipe"),
        "ferry": Result(name, shape, "ferry MirrorSourceConnector"),
    }
    for run in range(opts.runs):
        log(f"{name}, run {run + 1}/{opts.runs}")
        for program, result in results.items():
            if program not in opts.programs:
                continue
            source, target = Broker("source", link), Broker("target")
            try:
                source.create_topic("bench", partitions)
                preload(source, "bench", records, size, partitions)
                if program == "rdkafka":
                    target.create_topic("bench", partitions)
                    result.measure(lambda: pipe_sample(source, target, records, partitions, opts))
                else:
                    result.measure(lambda: mirror_sample(source, target, records, size,
                                                         partitions, opts))
            finally:
                source.close()
                target.close()
    return list(results.values())


def bench_distance(opts, loopback=None):
    """The copy across the link; `loopback` are the replication scenario's results when it ran
    in this invocation (otherwise the loopback copy is measured here)."""
    link = Link(opts.rtt_ms)
    try:
        log(f"link: {link.description}")
        results = bench_copy(opts, link)
    finally:
        link.close()
    if loopback is None:
        loopback = bench_copy(opts)
    ratios = [f"{far.program}: {far.records_per_s / near.records_per_s:.2f}× its loopback "
              f"records/s across the link"
              for near, far in zip(loopback, results) if near.samples and far.samples]
    check = (link_self_check(opts.rtt_ms) if link.kind == "proxy" else
             f"Link: netem, {opts.rtt_ms / 2:g} ms on each end of a veth pair.")
    return loopback + results, ("; ".join(ratios) + ".\n\n" if ratios else "") + check


# --- the report -------------------------------------------------------------------------------


def ratio(value, reference):
    if not reference:
        return "—"
    return f"{value / reference:.2f}×"


def throughput_table(results, with_wall=False):
    head = ("| benchmark | program | test shape | " + ("wall s | " if with_wall else "") +
            "records/s | MB/s | CPU s/GB | peak RSS MB | vs reference (records/s, CPU/GB, RSS) |")
    cols = head.count("|") - 1
    lines = [head, "|" + " --- |" * 3 + " ---: |" * (cols - 4) + " --- |"]
    by_name = {}
    for r in results:
        by_name.setdefault(r.name, []).append(r)
    for group in by_name.values():
        ref = group[0] if group[0].samples else None
        for r in group:
            if r.unavailable or r.error or not r.samples:
                what = (f"not available yet ({r.unavailable})" if r.unavailable else
                        f"failed: {r.error}" if r.error else "not run")
                lines.append(f"| {r.name} | {r.program} | {r.shape} | "
                             + " |" * (cols - 4) + f" {what} |")
                continue
            if r is group[0]:
                vs = "reference"
            elif ref is None:
                vs = "no reference figure"
            else:
                vs = (f"{ratio(r.records_per_s, ref.records_per_s)} speed, "
                      f"{ratio(r.cpu_per_gb, ref.cpu_per_gb)} CPU, "
                      f"{ratio(r.median('rss_kb'), ref.median('rss_kb'))} RSS")
            if r.error:
                vs += f" (then a run failed: {r.error})"
            wall = f"{r.median('seconds'):.2f} | " if with_wall else ""
            lines.append(f"| {r.name} | {r.program} | {r.shape} | {wall}"
                         f"{r.records_per_s:,.0f} | {r.mb_per_s:,.1f} | {r.cpu_per_gb:.2f} | "
                         f"{r.median('rss_kb') / 1024:.0f} | {vs} |")
    return "\n".join(lines)


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {os.cpu_count()} cores, {mem:.0f} GiB, Linux {platform.release()}"


def update_benchmarks_md(sections, opts):
    """Writes each measured section between the markers, under a line saying when, where and
    how it was measured; sections of scenarios not run this time are kept as they were."""
    path = os.path.join(ROOT, "BENCHMARKS.md")
    with open(path) as f:
        doc = f.read()
    begin, end = doc.index(MARK_BEGIN) + len(MARK_BEGIN), doc.index(MARK_END)
    kept = {}
    for block in doc[begin:end].split("\n### ")[1:]:
        title, _, body = block.partition("\n")
        kept[title.strip()] = body.strip()
    kind = "`--quick` (a tenth of the records)" if opts.quick else "full size"
    stamp = (f"_Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()}; "
             f"{kind}, median of {opts.runs} run(s)._")
    for title, body in sections:
        kept[title] = f"{stamp}\n\n{body}"
    # Sections of an older layout (titles no longer produced) are dropped.
    text = "\n\n".join(f"### {t}\n\n{kept[t]}" for t in SECTION_TITLES if t in kept)
    with open(path, "w") as f:
        f.write(doc[:begin] + "\n" + text + "\n" + doc[end:])


def summary_rows(results):
    """One row per throughput benchmark: Ferry's records/s next to its reference's."""
    by_name = {}
    for r in results:
        by_name.setdefault(r.name, []).append(r)
    rows = []
    for group in by_name.values():
        ref, ours = group[0], group[-1]
        if len(group) < 2:
            continue
        shape = ours.shape
        if not (ours.samples and ref.samples):
            why = ours.unavailable or ours.error or ref.unavailable or ref.error or "not run"
            rows.append((ours.name, shape, "—", "—", why))
            continue
        rows.append((ours.name, shape, f"{ours.records_per_s:,.0f} records/s ({ours.program})",
                     f"{ref.records_per_s:,.0f} records/s ({ref.program})",
                     f"{ratio(ours.records_per_s, ref.records_per_s)} speed, "
                     f"{ratio(ours.cpu_per_gb, ref.cpu_per_gb)} CPU/GB, "
                     f"{ratio(ours.median('rss_kb'), ref.median('rss_kb'))} peak RSS"))
    return rows


def worker_summary(rows, fails, opts):
    standalone, distributed, mm2 = rows

    def med(f, key, scale=1.0, digits=1):
        value = f.median(key) if f.samples else None
        return "—" if value is None else f"{value / scale:,.{digits}f}"
    configured = (opts.session_timeout_ms + opts.rebalance_delay_ms) / 1000
    failover = []
    for role, fail in fails.items():
        if not fail.samples:
            failover.append(f"{role}: {fail.error or fail.unavailable or 'not run'}")
            continue
        due = [s["due"] for s in fail.samples if s["due"] is not None]
        nudged = sum(1 for s in fail.samples if s["nudges"])
        failover.append(f"{role} killed: {fail.median('seconds'):.2f} s"
                        + (f" (scheduled rebalance due after {statistics.median(due):.2f} s, "
                           f"configured {configured:g} s; tansu nudged in {nudged} of "
                           f"{len(fail.samples)} runs)" if due else ""))
    shape = fails["follower"].shape.split("; ", 1)[-1]
    return [
        ("worker start-up to REST", "no connectors",
         f"{med(standalone, 'startup', digits=3)} s standalone, "
         f"{med(distributed, 'startup', digits=3)} s distributed", "no Java Connect here", "—"),
        ("worker resident memory", mm2.shape,
         f"idle {med(standalone, 'rss', 1024)} MB; three MM2 connectors: "
         f"{med(mm2, 'during', 1024)} MB while replicating, peak {med(mm2, 'peak', 1024)} MB, "
         f"{med(mm2, 'rss', 1024)} MB after", "no Java Connect here", "—"),
        ("fail-over after SIGKILL", f"3 workers, {opts.failover_tasks} tasks; {shape}",
         "; ".join(failover), "no Java Connect here", "—"),
    ]


def summary_table(rows):
    head = ("| benchmark | test shape | Ferry | reference | Ferry / reference |\n"
            "| --- | --- | --- | --- | --- |")
    return head + "\n" + "\n".join("| " + " | ".join(row) + " |" for row in rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the records")
    parser.add_argument("--only", help="comma-separated scenarios to run: "
                                       + ", ".join(SCENARIOS))
    parser.add_argument("--update", action="store_true", help="write the tables to BENCHMARKS.md")
    parser.add_argument("--fetch-wait-ms", type=int,
                        help="fetch wait of the copies' consumers (default: each client's own, "
                             "500 ms)")
    parser.add_argument("--consume-fetch-wait-ms", type=int, default=10,
                        help="fetch wait of the consume benchmarks (default 10 ms: the test "
                             "broker holds a multi-partition fetch for the whole wait even when "
                             "data is there, which real Kafka does not)")
    parser.add_argument("--rtt-ms", type=float, default=50, help="round trip of the long link")
    parser.add_argument("--idle-s", type=float, default=3, help="idle time before RSS is read")
    parser.add_argument("--steady-s", type=float, default=5,
                        help="time after the MM2 worker's copy before its steady RSS is read")
    parser.add_argument("--copy-timeout", type=int, default=180,
                        help="seconds a copy may take before it counts as failed")
    parser.add_argument("--programs", default="rdkafka,ferry",
                        help="comma-separated subset of rdkafka,ferry")
    parser.add_argument("--session-timeout-ms", type=int, default=4000,
                        help="fail-over: the workers' session.timeout.ms (Java: 10000)")
    parser.add_argument("--heartbeat-ms", type=int, default=1000,
                        help="fail-over: the workers' heartbeat.interval.ms (Java: 3000)")
    parser.add_argument("--rebalance-delay-ms", type=int, default=2000,
                        help="fail-over: scheduled.rebalance.max.delay.ms (Java: 300000)")
    parser.add_argument("--failover-tasks", type=int, default=6,
                        help="fail-over: tasks of the VerifiableSourceConnector")
    parser.add_argument("--nudge-after-s", type=float, default=15,
                        help="fail-over: seconds past the configured time before the tansu "
                             "nudge (a STOPPED connector) is sent")
    opts = parser.parse_args()
    opts.scale = 10 if opts.quick else 1
    opts.programs = opts.programs.split(",")
    opts.fetch_wait_args = ([] if opts.fetch_wait_ms is None
                            else ["--fetch-wait-ms", str(opts.fetch_wait_ms)])
    opts.fetch_wait_label = ("default (500 ms)" if opts.fetch_wait_ms is None
                             else f"{opts.fetch_wait_ms} ms")
    chosen = opts.only.split(",") if opts.only else list(SCENARIOS)
    if unknown := set(chosen) - set(SCENARIOS):
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")

    started = time.time()
    sections, summary = [], []
    if "client" in chosen:
        client = bench_client(opts)
        summary += summary_rows(client)
        sections.append(("Client throughput", throughput_table(client)))
    replication = None
    if "replication" in chosen:
        replication = bench_copy(opts)
        summary += summary_rows(replication)
        sections.append(("Replication between two clusters",
                         throughput_table(replication, with_wall=True)))
    if "distance" in chosen:
        results, note = bench_distance(opts, replication)
        loopback, far = results[:len(results) // 2], results[len(results) // 2:]
        summary += summary_rows(far)
        kept = [f"{f.records_per_s / n.records_per_s:.2f}× ({f.program})"
                for n, f in zip(loopback, far) if n.samples and f.samples]
        if len(kept) == 2:
            summary.append(("long distance: records/s across the link / on loopback",
                            far[0].shape, kept[-1], kept[0], "target for Ferry: ≥ 0.80×"))
        sections.append(("Long distance",
                         throughput_table(results, with_wall=True) + "\n\n" + note))
    if "worker" in chosen:
        rows, fails = bench_worker(opts)
        summary += worker_summary(rows, fails, opts)
        sections.append(("Worker start-up and memory", worker_table(rows, opts)))
        sections.append(("Fail-over", failover_table(fails, opts)))
    took = time.time() - started
    sections.insert(0, ("Summary", summary_table(summary) + "\n\n"
                        f"Scenarios run: {', '.join(chosen)}; the benchmarks took "
                        f"{took / 60:.1f} minutes (builds not included). Details below."))
    print("\n\n".join(f"### {title}\n\n{body}" for title, body in sections))
    if opts.update:
        update_benchmarks_md(sections, opts)


if __name__ == "__main__":
    sys.exit(main())
