"""`lpwa demo` as named steps: start the stack, queue a downlink, send while printing, report."""

import asyncio
import contextlib
import logging
import signal
import sys

from lpwa.gateway.config import ConfigError
from lpwa.tools.demo.errors import DemoError
from lpwa.tools.demo.nodes import make_nodes
from lpwa.tools.demo.stack import Stack
from lpwa.tools.demo.traffic import queue_downlink, send_all, status_line

GATEWAY_ID = "demo"


async def run_demo(frames=18, broker_url=None, timeout=30.0, out=None, gateway_id=GATEWAY_ID, stop_event=None):
    """Run the demo; returns 0 when `frames` messages arrived (130 when stopped), raises DemoError otherwise."""
    out = out or sys.stdout
    stop_event = stop_event or asyncio.Event()
    nodes, withdrawn = make_nodes()
    stack = Stack()
    try:
        where = await stack.start_broker(broker_url)
        topic = "lpwa/%s/+/+/up" % gateway_id
        await stack.start_subscriber(topic, out)
        await stack.start_gateway(nodes + [withdrawn], gateway_id)
        await stack.start_radios()
        _banner(out, gateway_id, where, topic, frames)
        await queue_downlink(stack, nodes[0], gateway_id)
        stopped = await _send_and_print(stack, nodes, withdrawn, frames, timeout, stop_event, out)
        return _report(stack, frames, timeout, stopped, out)
    finally:
        await stack.stop()


def _banner(out, gateway_id, where, topic, frames):
    out.write("lpwa demo: gateway %r -> %s; subscribed to %s\n"
              "  9 nodes (buoy, drone-vital, pedometer x LoRa, Sigfox, Wi-SUN) + 1 pedometer without consent;"
              " waiting for %d messages\n" % (gateway_id, where, topic, frames))
    out.flush()


async def _send_and_print(stack, nodes, withdrawn, frames, timeout, stop_event, out):
    """Send and print until `frames` messages were printed, the timeout, or Ctrl-C -> stopped?"""
    loop = asyncio.get_running_loop()
    printer = loop.create_task(stack.subscriber.print_until(frames))
    stopper = loop.create_task(stop_event.wait())
    sender = loop.create_task(send_all(stack, nodes, withdrawn, frames, out))
    waiting = {printer, stopper, sender}
    deadline = loop.time() + timeout
    try:
        while True:
            done, _ = await asyncio.wait(waiting, timeout=max(0.0, deadline - loop.time()),
                                         return_when=asyncio.FIRST_COMPLETED)
            if sender not in done:
                return stopper in done
            exc = sender.exception()
            if exc is not None:
                raise exc if isinstance(exc, DemoError) else DemoError("sending failed: %r" % (exc,))
            waiting.discard(sender)  # all sent: keep waiting for the messages to arrive
    finally:
        # cancel and wait for them, so none still runs (or dies unretrieved) while the stack stops
        for task in (printer, stopper, sender):
            task.cancel()
        await asyncio.gather(printer, stopper, sender, return_exceptions=True)


def _report(stack, frames, timeout, stopped, out):
    """The last line: interrupted (130), too few messages (DemoError) or the summary (0)."""
    messages = stack.subscriber.messages
    got = len(messages)
    if stopped:
        out.write("lpwa demo: interrupted after %d messages\n" % got)
        return 130
    if got < frames:
        raise DemoError("only %d of %d messages arrived within %.0f s (%s)"
                        % (got, frames, timeout, status_line(stack.gateway)))
    out.write("lpwa demo: %d messages from %d nodes over LoRa, Sigfox and Wi-SUN; %s\n"
              % (got, len({t.split("/")[3] for t, _ in messages}), status_line(stack.gateway)))
    out.flush()
    return 0


def _quiet_logs(verbose):
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:
        logging.getLogger("lpwa").setLevel(logging.ERROR)
        logging.getLogger("lpwa.gateway.paho").setLevel(logging.CRITICAL)  # paho's own chatter at shutdown


def main(frames=18, broker_url=None, timeout=30.0, verbose=False, gateway_id=GATEWAY_ID):
    """Entry point for the CLI: exit status 0 (all arrived), 1 (failed, one clear line), 130 (Ctrl-C)."""
    _quiet_logs(verbose)

    async def runner():
        stop_event = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop_event.set)
        return await run_demo(frames, broker_url, timeout, sys.stdout, gateway_id, stop_event)

    try:
        return asyncio.run(runner())
    except DemoError as e:
        sys.stderr.write("lpwa demo: %s\n" % e)
        return 1
    except ConfigError as e:  # e.g. a --gateway-id that cannot be a topic level
        sys.stderr.write("lpwa demo: %s\n" % e)
        return 2
