"""The demo's embedded MQTT broker: amqtt in this process, so the demo needs nothing installed."""

import logging

from lpwa.tools.mosquitto import free_port


async def start_embedded_broker():
    """amqtt on a free loopback port -> (broker, url). amqtt speaks MQTT 3.1.1."""
    from amqtt.broker import Broker  # imported late: amqtt is slow to import and --broker skips it
    for name in ("amqtt", "transitions"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    port = free_port()
    broker = Broker({"listeners": {"default": {"type": "tcp", "bind": "127.0.0.1:%d" % port}},
                     "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}})
    await broker.start()
    return broker, "mqtt://127.0.0.1:%d" % port
