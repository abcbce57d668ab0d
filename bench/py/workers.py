"""The worker scenario: the worker process itself rather than a copy's throughput.

- start-up: time from process start until the REST API answers `GET /` with 200, for
  `ferry standalone` and for each of three `ferry distributed` members of one group;
- memory: resident memory of an idle worker, and of a worker running MirrorMaker 2's three
  connectors while it replicates and once it is done;
- fail-over: three `ferry distributed` workers run a VerifiableSourceConnector with several
  tasks; one is killed with SIGKILL; the time until every task is RUNNING on the survivors.
"""

import json
import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime

from common import (BENCH, FERRY, Broker, attempt, ferry_has, flow_props, free_port, log,
                    preload, proc_usage, standalone_props, stop, wait_rest, write_props)

MIRROR = "org.apache.kafka.connect.mirror."
STRING = "org.apache.kafka.connect.storage.StringConverter"
VERIFIABLE = "org.apache.kafka.connect.tools.VerifiableSourceConnector"
# The line a distributed worker logs when it has synced a rebalance round.
ROUND = "herder::control: joined group"
WHO = {"follower": "a follower", "leader": "the group's leader"}


def rest(port, method, path, body=None, timeout=10):
    """One REST call; (status, JSON body), or (None, None) when nothing answers."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    except OSError:
        return None, None
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def until(what, check, timeout, every=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if (value := check()) is not None:
            return value
        time.sleep(every)
    raise RuntimeError(f"{what}: not within {timeout:g} s")


# --- idle and start-up --------------------------------------------------------------------------


@dataclass
class Figures:
    """Samples of one row of the worker table: each a dict of figure name to value."""
    program: str
    shape: str
    samples: list = field(default_factory=list)
    error: str | None = None
    unavailable: str | None = None

    def median(self, key):
        values = [s[key] for s in self.samples if s.get(key) is not None]
        return statistics.median(values) if values else None

    def measure(self, runner):
        attempt(self, runner, self.samples.extend, self.program)


def idle_standalone(opts):
    broker = Broker("worker")
    try:
        with tempfile.TemporaryDirectory(prefix="ferry-bench-worker-") as tmp, \
                tempfile.TemporaryFile() as err:
            port = free_port()
            start = time.time()
            ferry = subprocess.Popen([FERRY, "standalone",
                                      standalone_props(tmp, broker.bootstrap, port)],
                                     stdout=subprocess.DEVNULL, stderr=err)
            try:
                try:
                    startup = wait_rest(port, ferry, start)
                except RuntimeError as e:
                    err.seek(0)
                    raise RuntimeError(f"{e}: {err.read()[-400:].decode(errors='replace')}")
                # Idle: what the worker holds once it has nothing to do.
                time.sleep(opts.idle_s)
                cpu, peak, rss = proc_usage(ferry.pid)
                return [{"startup": startup, "rss": rss, "peak": peak, "cpu": cpu}]
            finally:
                stop(ferry)
    finally:
        broker.close()


# --- MirrorMaker 2's three connectors in one worker ---------------------------------------------


def mm2_configs(source, target):
    """The three connectors as scripts/demo deploys them (flow src -> dst, topic `bench`)."""
    common = {
        **flow_props(source, target),
        "checkpoints.topic.replication.factor": "1",
        "heartbeats.topic.replication.factor": "1",
    }
    return {
        "mm2-source": {**common, "connector.class": MIRROR + "MirrorSourceConnector",
                       "tasks.max": "2", "source.consumer.fetch.max.wait.ms": "50",
                       "refresh.topics.interval.seconds": "5"},
        "mm2-checkpoint": {**common, "connector.class": MIRROR + "MirrorCheckpointConnector",
                           "sync.group.offsets.enabled": "true",
                           "emit.checkpoints.interval.seconds": "2",
                           "sync.group.offsets.interval.seconds": "2",
                           "refresh.groups.interval.seconds": "5"},
        "mm2-heartbeat": {**common, "connector.class": MIRROR + "MirrorHeartbeatConnector",
                          "emit.heartbeats.interval.seconds": "1"},
    }


def commit_group(broker, topic, partitions, offset):
    """Gives the checkpoint connector a group to checkpoint: commits `offset` on every
    partition of `topic` for group `bench-app`."""
    from confluent_kafka import Consumer, TopicPartition
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "bench-app",
                         "enable.auto.commit": False, "log_level": 3})
    try:
        consumer.commit(offsets=[TopicPartition(topic, p, offset) for p in range(partitions)],
                        asynchronous=False)
    finally:
        consumer.close()


def mm2_shape(opts):
    records = 1_000_000 // opts.scale
    return (records, 512, 3,
            f"{records:,} × 512 B preloaded, 3 partitions; MirrorSourceConnector tasks.max=2, "
            "checkpoint and heartbeat connectors as in scripts/demo, one consumer group")


def mm2_worker(opts):
    """Peak and steady resident memory of `ferry standalone` running the three connectors."""
    records, size, partitions, _ = mm2_shape(opts)
    source, target = Broker("mm2-source"), Broker("mm2-target")
    try:
        source.create_topic("bench", partitions)
        preload(source, "bench", records, size, partitions)
        commit_group(source, "bench", partitions, records // partitions // 2)
        with tempfile.TemporaryDirectory(prefix="ferry-bench-mm2w-") as tmp, \
                tempfile.TemporaryFile() as err:
            port = free_port()
            files = []
            for name, config in mm2_configs(source, target).items():
                files.append(os.path.join(tmp, f"{name}.properties"))
                write_props(files[-1], {"name": name, **config})
            worker = standalone_props(tmp, target.bootstrap, port,
                                      **{"offset.flush.interval.ms": "10000"})
            start = time.time()
            ferry = subprocess.Popen([FERRY, "standalone", worker, *files],
                                     stdout=subprocess.DEVNULL, stderr=err)
            watcher = subprocess.Popen(
                [BENCH, "wait-records", "--bootstrap", target.bootstrap, "--topic",
                 "src.bench", "--records", str(records), "--partitions", str(partitions),
                 "--timeout-s", str(opts.copy_timeout)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            try:
                startup = wait_rest(port, ferry, start)
                during = []
                while watcher.poll() is None and ferry.poll() is None:
                    during.append(proc_usage(ferry.pid)[2])
                    time.sleep(0.1)
                if ferry.poll() is not None:
                    err.seek(0)
                    tail = err.read()[-400:].decode(errors="replace").strip()
                    raise RuntimeError(f"ferry standalone exited {ferry.returncode}: {tail}")
                if watcher.returncode != 0:
                    why = (watcher.stderr.read().strip().splitlines() or ["no output"])[0]
                    raise RuntimeError(f"copy incomplete: {why}")
                copied = time.time() - start
                for name in ("mm2-source", "mm2-checkpoint", "mm2-heartbeat"):
                    status, body = rest(port, "GET", f"/connectors/{name}/status")
                    state = (body or {}).get("connector", {}).get("state")
                    if status != 200 or state != "RUNNING":
                        raise RuntimeError(f"{name} is {state or status} after the copy")
                # Steady: the three connectors still run (heartbeats, checkpoints, topic and
                # group refreshes), with nothing left to copy.
                time.sleep(opts.steady_s)
                cpu, peak, rss = proc_usage(ferry.pid)
                return [{"startup": startup, "during": statistics.median(during or [0]),
                         "rss": rss, "peak": peak, "cpu": cpu, "copied": copied}]
            finally:
                watcher.kill()
                watcher.wait()
                stop(ferry)
    finally:
        source.close()
        target.close()


# --- a Connect cluster of three `ferry distributed` workers -------------------------------------


class Member:
    """One `ferry distributed` process of the benchmark's group."""

    def __init__(self, tmp, name, bootstrap, opts):
        self.port = free_port()
        self.id = f"127.0.0.1:{self.port}"
        self.name = name
        path = os.path.join(tmp, f"{name}.properties")
        write_props(path, {
            "bootstrap.servers": bootstrap,
            "group.id": "bench-connect",
            "config.storage.topic": "bench-configs",
            "offset.storage.topic": "bench-offsets",
            "status.storage.topic": "bench-status",
            "config.storage.replication.factor": "1",
            "offset.storage.replication.factor": "1",
            "status.storage.replication.factor": "1",
            "offset.storage.partitions": "3",
            "status.storage.partitions": "2",
            "key.converter": STRING,
            "value.converter": STRING,
            "listeners": f"http://127.0.0.1:{self.port}",
            "session.timeout.ms": str(opts.session_timeout_ms),
            "heartbeat.interval.ms": str(opts.heartbeat_ms),
            "scheduled.rebalance.max.delay.ms": str(opts.rebalance_delay_ms),
            # The test broker holds a fetch of several partitions for the whole wait even when
            # data is there (real Kafka answers at once): without this, reading the status and
            # config topics would add up to 500 ms per step that Kafka would not.
            "fetch.max.wait.ms": "50",
        })
        self.log = open(os.path.join(tmp, f"{name}.log"), "wb")
        self.read = 0
        self.started = time.time()
        # Its log tells when a rebalance round completes and when a scheduled rebalance is due.
        self.proc = subprocess.Popen([FERRY, "distributed", path], stdout=subprocess.DEVNULL,
                                     stderr=self.log, env={**os.environ, "RUST_LOG": "info"})
        self.startup = None

    def wait_started(self):
        """Records the time to a serving REST API."""
        try:
            self.startup = wait_rest(self.port, self.proc, self.started)
        except RuntimeError as e:
            self.startup = e

    def lines(self):
        """(epoch time, text) of each complete log line written since the last call."""
        self.log.flush()
        with open(self.log.name, "rb") as f:
            f.seek(self.read)
            chunk = f.read()
        end = chunk.rfind(b"\n") + 1
        self.read += end
        stamped = []
        for line in chunk[:end].decode(errors="replace").splitlines():
            try:
                stamp = datetime.fromisoformat(line.split(" ", 1)[0].replace("Z", "+00:00"))
            except ValueError:
                continue
            stamped.append((stamp.timestamp(), line))
        return stamped

    def tail(self):
        self.log.flush()
        with open(self.log.name, "rb") as f:
            return f.read()[-600:].decode(errors="replace")

    def close(self):
        stop(self.proc)
        self.log.close()


def create(member, name, config, state=None):
    body = {"name": name, "config": config}
    if state:
        body["initial_state"] = state

    def attempt():
        status, answer = rest(member.port, "POST", "/connectors", body)
        if status == 201:
            return True
        if status not in (None, 409):
            raise RuntimeError(f"POST /connectors {name}: {status} {answer}")
        return None
    until(f"POST /connectors {name} accepted", attempt, 60, every=0.2)


def owners(member, connector, tasks):
    """The worker id of each task of `connector`, once it and all its tasks are RUNNING."""
    status, body = rest(member.port, "GET", f"/connectors/{connector}/status")
    if status != 200 or body["connector"]["state"] != "RUNNING":
        return None
    listed = body.get("tasks", [])
    if len(listed) != tasks or any(t["state"] != "RUNNING" for t in listed):
        return None
    return [t["worker_id"] for t in listed]


def failover(opts, victim_role):
    """One fail-over measurement, killing the group's "leader" or a "follower"; also returns
    the members' start-up and idle figures."""
    tasks = opts.failover_tasks
    broker = Broker("failover")
    members = []
    try:
        with tempfile.TemporaryDirectory(prefix="ferry-bench-failover-") as tmp:
            members = [Member(tmp, f"worker{i}", broker.bootstrap, opts) for i in range(3)]
            threads = [threading.Thread(target=m.wait_started) for m in members]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for m in members:
                if not isinstance(m.startup, float):
                    raise RuntimeError(f"{m.name}: {m.startup}: {m.tail()}")
            time.sleep(opts.idle_s)
            idle = []
            for m in members:
                cpu, peak, rss = proc_usage(m.proc.pid)
                idle.append({"startup": m.startup, "rss": rss, "peak": peak, "cpu": cpu})
            create(members[0], "flow", {"connector.class": VERIFIABLE, "tasks.max": str(tasks),
                                        "topic": "flow-data", "throughput": "50"})
            ids = {m.id for m in members}
            until("the tasks RUNNING on all three workers",
                  nudging(members, lambda: spread(members[0], tasks, ids), time.time(), opts),
                  180)
            # A few heartbeats of steady work before the crash.
            time.sleep(2)
            # A leader's death takes another path than a follower's: the next leader has no
            # record of the lost tasks, so it assigns them at once rather than holding them for
            # scheduled.rebalance.max.delay.ms (Java's IncrementalCooperativeAssignor clears
            # its previous assignment on a generation mismatch; Ferry's does the same).
            leaders = {m.id: [line for _, line in m.lines() if ROUND in line][-1:] for m in
                       members}
            role = f"leader={'true' if victim_role == 'leader' else 'false'}"
            victim = next((m for m in reversed(members)
                           if leaders[m.id] and role in leaders[m.id][0]), members[2])
            moved = (owners(members[0], "flow", tasks) or []).count(victim.id)
            survivors = [m for m in members if m is not victim]
            victim.proc.send_signal(signal.SIGKILL)
            killed = time.time()
            victim.proc.wait()
            state = {"due": None, "nudges": [], "rounds": []}
            survivor_ids = {m.id for m in survivors}
            until("the tasks RUNNING on the survivors",
                  nudging(survivors, lambda: spread(survivors[0], tasks, survivor_ids), killed,
                          opts, state), 180)
            done = time.time()
            time.sleep(0.5)  # lets the log of the last round reach the file
            state["rounds"] += [t for t, line in survivors[0].lines() if ROUND in line]
            rounds = len([t for t in state["rounds"] if t <= done])
            return idle, {"seconds": done - killed, "moved": moved, "rounds": rounds,
                          "leader": "leader=true" in "".join(leaders[victim.id]),
                          "due": state["due"] and state["due"] - killed,
                          "nudges": [t - killed for t in state["nudges"]]}
    except RuntimeError as e:
        raise RuntimeError(f"{e}: {members[0].tail() if members else ''}") from e
    finally:
        for m in members:
            m.close()
        broker.close()


def spread(member, tasks, ids):
    held = owners(member, "flow", tasks)
    return held is not None and set(held) == ids or None


def nudging(members, check, since, opts, state=None):
    """`check`, wrapped so that it nudges the test broker while `check` does not hold.

    Tansu starts no new generation for a rejoin whose metadata is byte-identical
    (shared/TEST-BROKER.md, deviation 5), which Kafka would rebalance on. The nudge is a
    STOPPED connector (no tasks, no load): it changes every member's config offset, so the next
    rejoin starts a generation. With `state`, the nudge is sent as soon as a member logs that its
    scheduled rebalance is due (the moment Kafka would rebalance), and `state` records that
    moment ("due"), each nudge and each completed rebalance round ("rounds"); otherwise, or if
    that line never shows, after `opts.nudge_after_s` seconds. Further nudges every 30 s."""
    watch = state is not None
    state = state if watch else {"due": None, "nudges": [], "rounds": []}
    fallback = since + opts.nudge_after_s
    if watch:
        fallback += (opts.session_timeout_ms + opts.rebalance_delay_ms) / 1000
    last_scan = [0.0]

    def attempt():
        if check():
            return True
        now = time.time()
        if watch and now - last_scan[0] > 0.25:
            last_scan[0] = now
            due = []
            for i, m in enumerate(members):
                for t, line in m.lines():
                    if i == 0 and ROUND in line:
                        state["rounds"].append(t)
                    if "reason=scheduled rebalance" in line:
                        due.append(t)
            if due and state["due"] is None:
                state["due"] = min(due)
        nudges = state["nudges"]
        if (not nudges and (state["due"] is not None or now > fallback)
                or nudges and now > nudges[-1] + 30):
            nudges.append(now)
            create(members[0], f"nudge-{len(nudges)}-{int(since)}",
                   {"connector.class": VERIFIABLE, "tasks.max": "1", "topic": "nudge",
                    "throughput": "1"}, state="STOPPED")
        return None
    return attempt


# --- the scenario and its tables ----------------------------------------------------------------


def cluster_settings(opts):
    return (f"session.timeout.ms={opts.session_timeout_ms}, "
            f"heartbeat.interval.ms={opts.heartbeat_ms}, "
            f"scheduled.rebalance.max.delay.ms={opts.rebalance_delay_ms}, fetch.max.wait.ms=50")


def bench_worker(opts):
    """Runs every worker measurement `opts.runs` times; returns the rows of the worker table
    and the fail-over figures."""
    standalone = Figures("ferry standalone", "no connectors, bootstrap on a local tansu broker")
    distributed = Figures("ferry distributed",
                          "one of 3 members of one group started together, no connectors, "
                          + cluster_settings(opts))
    mm2 = Figures("ferry standalone, MirrorMaker 2's 3 connectors", mm2_shape(opts)[3])
    fails = {role: Figures("ferry distributed",
                           f"3 workers, VerifiableSourceConnector tasks.max={opts.failover_tasks} "
                           f"(throughput 50/s per task), {WHO[role]} SIGKILLed; "
                           + cluster_settings(opts))
             for role in ("follower", "leader")}
    if not ferry_has("distributed"):
        for figures in (standalone, distributed, mm2, *fails.values()):
            figures.unavailable = "`ferry distributed` / `ferry standalone` not built"
        return [standalone, distributed, mm2], fails

    def one_failover(role):
        idle, result = failover(opts, role)
        distributed.samples.extend(idle)
        return [result]

    for run in range(opts.runs):
        log(f"worker: idle standalone, run {run + 1}/{opts.runs}")
        standalone.measure(lambda: idle_standalone(opts))
        for role, fail in fails.items():
            log(f"worker: 3 distributed workers, SIGKILL of the {role}, run {run + 1}/{opts.runs}")
            fail.measure(lambda: one_failover(role))
        log(f"worker: MirrorMaker 2's connectors, run {run + 1}/{opts.runs}")
        mm2.measure(lambda: mm2_worker(opts))
    if not distributed.samples and any(f.error for f in fails.values()):
        distributed.error = "see the fail-over table"
    return [standalone, distributed, mm2], fails


def fmt(value, digits=1, scale=1.0):
    return "—" if value is None else f"{value / scale:,.{digits}f}"


def worker_table(rows, opts):
    head = ("| benchmark | program | test shape | start-up to REST s | RSS MB | peak RSS MB | "
            "CPU s | vs idle worker (RSS) |\n"
            "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |")
    lines = [head]
    standalone, distributed, mm2 = rows
    idle_rss = standalone.median("rss")

    def line(name, f, rss_key, cpu=True, vs="—", startup=True):
        if f.unavailable or f.error or not f.samples:
            what = (f"not available ({f.unavailable})" if f.unavailable else
                    f"failed: {f.error}" if f.error else "not run")
            return f"| {name} | {f.program} | {f.shape} | | | | | {what} |"
        return (f"| {name} | {f.program} | {f.shape} | "
                f"{fmt(f.median('startup') if startup else None, 3)} | "
                f"{fmt(f.median(rss_key), 1, 1024)} | "
                f"{fmt(f.median('peak'), 1, 1024)} | "
                f"{fmt(f.median('cpu') if cpu else None, 2)} | {vs} |")

    def vs(f, key):
        value = f.median(key)
        return f"{value / idle_rss:.1f}×" if value and idle_rss else "—"

    lines.append(line("idle worker", standalone, "rss", vs="reference"))
    lines.append(line("idle worker", distributed, "rss", vs=vs(distributed, "rss")))
    lines.append(line("MM2 worker, while replicating (median RSS)", mm2, "during", cpu=False,
                      vs=vs(mm2, "during")))
    lines.append(line(f"MM2 worker, {opts.steady_s:g} s after the copy", mm2, "rss",
                      vs=vs(mm2, "rss"), startup=False))
    copied = mm2.median("copied")
    note = ("RSS is VmRSS from /proc at the end of the idle time (the MM2 rows: the median of "
            "samples every 100 ms while records are copied, and the value "
            f"{opts.steady_s:g} s after the last record arrived); peak RSS is VmHWM. CPU s is "
            "user + system since process start. The distributed members' start-up and idle "
            "figures come from the fail-over runs (all three members started at once, every "
            "run). No Java Connect worker is installed on the machine measured, "
            "so there is no reference ratio; the idle standalone worker is the baseline.")
    if copied:
        note += f" The MM2 worker copied its records in {copied:.1f} s (median, start-up included)."
    return "\n".join(lines) + "\n\n" + note


def failover_row(role, fail, opts):
    configured = (opts.session_timeout_ms + opts.rebalance_delay_ms) / 1000
    name = f"fail-over after SIGKILL of {WHO[role]}"
    if fail.unavailable or fail.error or not fail.samples:
        what = (f"not available ({fail.unavailable})" if fail.unavailable else
                f"failed: {fail.error}" if fail.error else "not run")
        return f"| {name} | {fail.program} | {fail.shape} | | | | | | | {what} |"
    samples = fail.samples
    runs = ", ".join(f"{s['seconds']:.2f}" for s in samples)
    due = [s["due"] for s in samples if s["due"] is not None]
    after = [s["seconds"] - s["due"] for s in samples if s["due"] is not None]
    nudged = [s for s in samples if s["nudges"]]
    lag = [s["nudges"][0] - s["due"] for s in nudged if s["due"] is not None]
    nudge = ("none needed" if not nudged else
             f"needed in {len(nudged)} of {len(samples)} runs"
             + (f", sent within {max(lag):.2f} s of the due time" if lag else ""))
    moved = statistics.median(s["moved"] for s in samples)
    return (f"| {name} ({moved:g} of {opts.failover_tasks} tasks moved) | "
            f"{fail.program} | {fail.shape} | {fail.median('seconds'):.2f} | {runs} | "
            f"{configured:g} | {fmt(statistics.median(due) if due else None, 2)} | "
            f"{fmt(statistics.median(after) if after else None, 2)} | "
            f"{fmt(fail.median('rounds'), 0)} | {nudge} |")


def failover_table(fails, opts):
    head = ("| benchmark | program | test shape | fail-over s (median) | every run s | "
            "configured (session timeout + delay) s | until the scheduled rebalance was due s | "
            "after it s | rebalance rounds | tansu nudge |\n"
            "| --- | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | --- |")
    body = "\n".join(failover_row(role, fail, opts) for role, fail in fails.items())
    note = (
        "Fail-over time: from the SIGKILL until `GET /connectors/flow/status` on a survivor "
        "shows the connector and every task RUNNING on the two survivors (polled every 50 ms). "
        "By design it is at least the session timeout (the broker's notice that the member is "
        "gone, counted from its last heartbeat) plus scheduled.rebalance.max.delay.ms (the "
        "leader holds a lost member's tasks that long in case it comes back, as Java's "
        "incremental cooperative protocol does). Java's defaults (session.timeout.ms=10000, "
        "scheduled.rebalance.max.delay.ms=300000) make a fail-over take about 5 minutes by "
        "design, with Java's worker or Ferry's; the shorter settings above are stated so that "
        "the rest can be seen. \"Until the scheduled rebalance was due\" runs from the SIGKILL "
        "to the survivors' log line `rejoin requested reason=scheduled rebalance`: the session "
        "timeout, one rebalance round and the delay. At that moment Kafka would start a new "
        "generation; the test broker (tansu) does not, because the rejoin's metadata is "
        "byte-identical (`shared/TEST-BROKER.md`, deviation 5), and without help the survivors "
        "rejoin the same generation every delay forever (seen for 66 s, the leader's new "
        "assignment dropped each time). So the benchmark \"nudges\" as the project's tests do: "
        "as soon as the due line shows, it creates a STOPPED connector (no tasks), which "
        "changes every member's metadata; \"after it\" therefore includes that POST (forwarded "
        "to the leader) besides the reassignment rounds and the tasks' start. Every round on "
        "tansu costs at least session.timeout.ms / 2 (it holds each JoinGroup that long), and "
        "a follower's SyncGroup overtaken by a new round waits for the session timeout before "
        "it is told to rejoin; Kafka completes a round as soon as every member has rejoined. "
        "The rounds column counts the rounds a survivor completed after the SIGKILL. When the "
        "leader dies, the next leader has no record of the lost tasks (Java's "
        "IncrementalCooperativeAssignor, too, clears its previous assignment when the "
        "generation it last assigned is not the last completed one), so it assigns them in the "
        "first round, without the delay and without a nudge. No Java "
        "Connect worker is installed on the machine measured, so the figures are absolute.")
    return head + "\n" + body + "\n\n" + note
