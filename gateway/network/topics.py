"""The network's topic names (table in gateway/NETWORK.md), built and parsed in one place."""

NETWORK = "network"  # the reserved gateway id of the network level
SHARE_GROUP = "lpwa-network"


class Topics:
    def __init__(self, prefix):
        self.prefix = prefix.rstrip("/")
        p = self.prefix
        self.members = p + "/network/_members/"
        self.state = p + "/network/_state/"
        self.sync = p + "/network/_sync/"
        # (topic, no_local): MQTT 5 "no local" spares an instance its own network messages and
        # `_state` coming back; its membership and sync marker it must see
        self.subscriptions = [
            (p + "/network/_members/+", False), (p + "/network/_state/+", True), (p + "/+/status", False),
            (p + "/+/+/+/up", True),
        ]
        # on a second, clean-session connection: a dead instance's persistent session would keep
        # receiving its share of commands until it came back
        self.commands = ("$share/%s/%s/network/+/+/down" % (SHARE_GROUP, p), 1)

    def network_up(self, kind, device):
        return "%s/network/%s/%s/up" % (self.prefix, kind, device)

    def gateway_down(self, gateway, kind, device):
        return "%s/%s/%s/%s/down" % (self.prefix, gateway, kind, device)

    def parse(self, topic):
        """-> (what, fields): ("member", id), ("state", device), ("sync", (id, nonce)),
        ("status", gateway), ("up", (gateway, kind, device)), ("down", (kind, device)) or (None, None)."""
        if not topic.startswith(self.prefix + "/"):
            return None, None
        parts = topic[len(self.prefix) + 1:].split("/")
        if len(parts) == 3 and parts[0] == NETWORK:
            what = {"_members": "member", "_state": "state"}.get(parts[1])
            return (what, parts[2]) if what else (None, None)
        if len(parts) == 4 and parts[:2] == [NETWORK, "_sync"]:
            return "sync", (parts[2], parts[3])
        if len(parts) == 2 and parts[1] == "status":
            return "status", parts[0]
        if len(parts) == 4 and parts[3] == "up":
            return "up", tuple(parts[:3])
        if len(parts) == 4 and parts[3] == "down" and parts[0] == NETWORK:
            return "down", (parts[1], parts[2])
        return None, None
