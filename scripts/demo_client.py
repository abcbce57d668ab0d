"""Client-side steps of scripts/demo, run with the project's virtualenv (confluent-kafka).

    demo_client.py wait BOOTSTRAP             wait until the cluster answers metadata requests
    demo_client.py create BOOTSTRAP TOPIC P   create TOPIC with P partitions
    demo_client.py produce BOOTSTRAP TOPIC N  write N keyed records, printing progress
    demo_client.py show BOOTSTRAP TOPIC N     print the first N records of TOPIC
    demo_client.py count BOOTSTRAP TOPIC      count the records in TOPIC
    demo_client.py consume-group BOOTSTRAP TOPIC GROUP N
                                              consume N records of TOPIC in consumer group GROUP,
                                              commit, and print the group's committed offsets
    demo_client.py group-offsets BOOTSTRAP TOPIC GROUP
                                              print GROUP's committed offsets in TOPIC
    demo_client.py wait-records BOOTSTRAP TOPIC N SECONDS
                                              wait, printing progress, until TOPIC holds N records
    demo_client.py rest METHOD URL [JSON]     call a Connect REST API, print the JSON answer
    demo_client.py wait-rest URL SECONDS      wait until a Connect worker answers GET URL
    demo_client.py wait-running URL NAMES...  wait until the connectors and all their tasks run
"""

import json
import sys
import time
import urllib.error
import urllib.request

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def wait(bootstrap):
    deadline = time.time() + 30
    admin = AdminClient({"bootstrap.servers": bootstrap})
    while True:
        try:
            admin.list_topics(timeout=2)
            return
        except Exception:
            if time.time() > deadline:
                sys.exit(f"cluster at {bootstrap} did not answer within 30 s")
            time.sleep(0.2)


def create(bootstrap, topic, partitions):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, partitions, 1)]).values():
        future.result(30)


def produce(bootstrap, topic, count):
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    step = max(count // 4, 1)
    for i in range(count):
        producer.produce(topic, key=f"order-{i % 100}", value=f'{{"id": {i}, "amount": {i % 997}}}')
        if i % 10000 == 0:
            producer.poll(0)
        if (i + 1) % step == 0:
            print(f"  produced {i + 1}/{count}", flush=True)
    left = producer.flush(30)
    if left:
        sys.exit(f"{left} records were not delivered")


def partitions(consumer, topic):
    md = consumer.list_topics(topic, timeout=10).topics[topic]
    return [TopicPartition(topic, p, 0) for p in sorted(md.partitions)]


def read(bootstrap, topic, limit=None):
    """Yields TOPIC's records from the beginning, up to LIMIT or to the end of every partition.

    The end comes from the high watermark of fetch responses (cached=True): the test broker's
    ListOffsets(latest) undercounts, so get_watermark_offsets without the cache cannot be trusted.
    """
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "ferry-demo-reader",
                         "enable.auto.commit": False, "statistics.interval.ms": 0})
    tps = partitions(consumer, topic)
    consumer.assign(tps)
    deadline = time.time() + 60
    seen = 0
    while limit is None or seen < limit:
        msg = consumer.poll(0.5)
        if msg is None:
            if at_end(consumer, tps) or time.time() > deadline:
                break
            continue
        if msg.error():
            sys.exit(str(msg.error()))
        seen += 1
        yield msg
    consumer.close()


def at_end(consumer, tps):
    positions = consumer.position(tps)
    for tp in positions:
        high = consumer.get_watermark_offsets(tp, cached=True)[1]
        position = max(tp.offset, 0)  # negative: nothing consumed yet
        if high < 0 or position < high:
            return False
    return True


def consume_group(bootstrap, topic, group, count):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    deadline = time.time() + 60
    seen = 0
    # At least COUNT records and one of every partition, so that every partition has an offset.
    every = set(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
    seen_partitions = set()
    while seen < count or seen_partitions != every:
        if time.time() > deadline:
            sys.exit(f"consumed only {seen} of {count} records within 60 s")
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            sys.exit(str(msg.error()))
        seen += 1
        seen_partitions.add(msg.partition())
    consumer.commit(asynchronous=False)
    consumer.close()
    print_group_offsets(bootstrap, topic, group)


def print_group_offsets(bootstrap, topic, group):
    # A consumer that never subscribes reads the group's offsets without joining it.
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                         "enable.auto.commit": False})
    committed = consumer.committed(partitions(consumer, topic), timeout=10)
    for tp in committed:
        shown = tp.offset if tp.offset >= 0 else "(none)"
        print(f"  {group}: {tp.topic} partition {tp.partition} offset {shown}")
    consumer.close()


def wait_records(bootstrap, topic, count, seconds):
    """Waits until the sum of TOPIC's high watermarks, as fetch responses report them (the test
    broker's ListOffsets(latest) undercounts), reaches COUNT; prints progress once a second."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "ferry-demo-watcher",
                         "enable.auto.commit": False, "fetch.wait.max.ms": 100})
    deadline = time.time() + seconds
    tps = None
    total = 0
    last_report = 0
    while time.time() < deadline:
        if tps is None:
            topics = consumer.list_topics(timeout=5).topics
            if topic in topics and topics[topic].partitions:
                tps = [TopicPartition(topic, p, 0) for p in sorted(topics[topic].partitions)]
                consumer.assign(tps)
            else:
                time.sleep(0.5)
        else:
            consumer.consume(1000, 0.2)
            total = sum(max(consumer.get_watermark_offsets(tp, cached=True)[1], 0) for tp in tps)
        if time.time() - last_report >= 1 or total >= count:
            last_report = time.time()
            state = "not created yet" if tps is None else f"{total}/{count} records"
            print(f"  {topic}: {state}", flush=True)
        if total >= count:
            consumer.close()
            return
    sys.exit(f"{topic} holds {total} of {count} records after {seconds} s")


def rest(method, url, body=None):
    """Calls the REST API; returns (status, parsed JSON or text)."""
    data = None if body is None else body.encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json",
                                              "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, text


def rest_call(method, url, body=None):
    # A rebalance in progress answers 409: Connect's own advice is to try again.
    deadline = time.time() + 60
    while True:
        status, answer = rest(method, url, body)
        if status != 409 or time.time() > deadline:
            break
        time.sleep(1)
    print(json.dumps(answer, indent=2, sort_keys=True))
    if status >= 400:
        sys.exit(f"{method} {url} answered {status}")


def wait_rest(url, seconds):
    deadline = time.time() + seconds
    while True:
        try:
            if rest("GET", url)[0] == 200:
                return
        except OSError:
            pass
        if time.time() > deadline:
            sys.exit(f"{url} did not answer within {seconds} s")
        time.sleep(0.3)


def wait_running(url, names, seconds=120):
    deadline = time.time() + seconds
    last = None
    while True:
        try:
            status, answer = rest("GET", f"{url}/connectors?expand=status")
        except OSError as error:
            status, answer = None, str(error)
        states = {}
        if status == 200:
            for name in names:
                info = answer.get(name, {}).get("status", {})
                tasks = info.get("tasks", [])
                states[name] = (info.get("connector", {}).get("state", "MISSING"),
                                [t["state"] for t in tasks])
        summary = ", ".join(f"{n}: {c} tasks={t}" for n, (c, t) in sorted(states.items()))
        if summary != last:
            print(f"  {summary or answer}", flush=True)
            last = summary
        if len(states) == len(names) and all(
                c == "RUNNING" and t and all(s == "RUNNING" for s in t)
                for c, t in states.values()):
            return
        if time.time() > deadline:
            sys.exit(f"connectors not all running after {seconds} s: {summary or answer}")
        time.sleep(1)


def main(argv):
    command, bootstrap = argv[1], argv[2]
    if command == "rest":
        rest_call(argv[2], argv[3], argv[4] if len(argv) > 4 else None)
    elif command == "wait-rest":
        wait_rest(argv[2], float(argv[3]))
    elif command == "wait-running":
        wait_running(argv[2], argv[3:])
    elif command == "consume-group":
        consume_group(bootstrap, argv[3], argv[4], int(argv[5]))
    elif command == "group-offsets":
        print_group_offsets(bootstrap, argv[3], argv[4])
    elif command == "wait-records":
        wait_records(bootstrap, argv[3], int(argv[4]), float(argv[5]))
    elif command == "wait":
        wait(bootstrap)
    elif command == "create":
        create(bootstrap, argv[3], int(argv[4]))
    elif command == "produce":
        produce(bootstrap, argv[3], int(argv[4]))
    elif command == "show":
        for msg in read(bootstrap, argv[3], int(argv[4])):
            print(f"  partition={msg.partition()} offset={msg.offset()} "
                  f"key={msg.key().decode()} value={msg.value().decode()}")
    elif command == "count":
        print(sum(1 for _ in read(bootstrap, argv[3])))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv)
