"""The simulated network a learner's traffic really crosses: loopback addresses and gateway listeners.

addresses.py claims loopback address blocks for this process and holds the listening sockets of
LoadBalancer Services; proxy.py serves real HTTP(S) on each programmed Gateway's address and port
and routes every request with istio.routing. Controllers and Istio drive it; the API layer never
imports it.
"""
