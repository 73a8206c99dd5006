"""The demo's traffic: a downlink queued for the first buoy, then every node's uplinks over its
radio, the downlinks the forwarder hands back, and the pedometer whose consent is withdrawn."""

import asyncio
import json
import time

from lpwa.codecs.command import decode_command
from lpwa.tools.demo.nodes import plan

DEMO_COMMAND = {"cmd": "set-interval", "seconds": 600}


async def until(predicate, timeout):
    """Poll predicate() for up to `timeout` seconds -> its last value."""
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return predicate()


async def queue_downlink(stack, node, gateway_id):
    """Publish a command for `node` on its .../down topic, like any MQTT client would: the gateway
    queues it and hands it to the forwarder (PULL_RESP) in the node's receive window."""
    pipeline = stack.gateway.pipeline
    await until(lambda: stack.gateway.sink.connected, 10)
    for _ in range(5):  # a publish that beats the gateway's SUBSCRIBE is dropped by the broker: retry
        stack.subscriber.client.publish("lpwa/%s/%s/%s/down" % (gateway_id, node.kind, node.device),
                                        json.dumps(DEMO_COMMAND), qos=1)
        if await until(lambda: pipeline.downlinks.queued >= 1, 1.0):
            break


async def send_all(stack, nodes, withdrawn, frames, out):
    """Send the planned uplinks in order; after the third, one frame of the withdrawn pedometer."""
    radios = stack.radios()
    for i, (node, alarm) in enumerate(plan(nodes, frames)):
        for frame in node.next_frames(alarm):
            await radios[node.radio].send(node, frame)
        _print_downlinks(stack.forwarder, node, out)
        if i == 2 or (i == frames - 1 and frames <= 2):
            await _send_withdrawn(stack, withdrawn, out)
        await asyncio.sleep(0.05)


def _print_downlinks(forwarder, node, out):
    """What the node would decode from each PULL_RESP the forwarder received."""
    while forwarder.downlinks:
        raw = forwarder.downlinks.pop(0)
        try:
            command = json.dumps(decode_command(raw, node.device_id, node.key), separators=(",", ":"))
        except ValueError as e:
            command = "undecodable (%s)" % e
        out.write("  (downlink to %s %s over LoRa, PULL_RESP in its receive window, decoded by the "
                  "node: %s)\n" % (node.kind, node.device, command))


async def _send_withdrawn(stack, withdrawn, out):
    """One frame of the pedometer without consent: verified and counted, never published."""
    pipeline = stack.gateway.pipeline
    before = no_consent(pipeline)
    for frame in withdrawn.next_frames():
        await stack.radios()[withdrawn.radio].send(withdrawn, frame)  # returns after PUSH_ACK
    verdict = ("the gateway verified it; consent is withdrawn, so it is not published"
               if no_consent(pipeline) > before else "it must not be published")
    out.write("  (pedometer %s sent a frame over LoRa: %s)\n" % (withdrawn.device, verdict))
    out.flush()


def no_consent(pipeline):
    return pipeline.rejections.get("no-consent", 0)


def status_line(gateway):
    """A one-line summary of the gateway's own counters."""
    pipeline = gateway.pipeline
    rejected = dict(pipeline.rejections)
    parts = ["gateway accepted %d frames" % pipeline.accepted]
    if rejected:
        parts.append("rejected %s" % ", ".join("%s=%d" % kv for kv in sorted(rejected.items())))
    return "; ".join(parts)
