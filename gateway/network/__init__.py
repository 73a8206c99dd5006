"""`lpwa network`: many gateways, one network (design: gateway/NETWORK.md)."""
