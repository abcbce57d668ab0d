"""Client-side steps of scripts/demo, run with the project's virtualenv (confluent-kafka).

    demo_client.py wait BOOTSTRAP             wait until the cluster answers metadata requests
    demo_client.py create BOOTSTRAP TOPIC P   create TOPIC with P partitions
    demo_client.py produce BOOTSTRAP TOPIC N  write N keyed records, printing progress
    demo_client.py show BOOTSTRAP TOPIC N     print the first N records of TOPIC
    demo_client.py count BOOTSTRAP TOPIC      count the records in TOPIC
"""

import sys
import time

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


def main(argv):
    command, bootstrap = argv[1], argv[2]
    if command == "wait":
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
