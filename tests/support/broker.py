"""The tests' Mosquitto: the project's one launcher (lpwa.tools.mosquitto), re-exported here."""

from lpwa.tools.mosquitto import Mosquitto, MosquittoError, free_port, mosquitto_binary

__all__ = ["Mosquitto", "MosquittoError", "free_port", "mosquitto_binary"]
