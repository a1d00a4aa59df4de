"""The simulated kubelet's knowledge of the node: which images exist, what containers log.

Controllers (controllers/pods.py, podstatus.py) ask here what a pull of an image answers and what a
container prints, so the catalogue and the log lines stay data, apart from the pod state machine.
"""
