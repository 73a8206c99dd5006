"""The gateway service (CPython): sources in, verified frames out to MQTT."""
