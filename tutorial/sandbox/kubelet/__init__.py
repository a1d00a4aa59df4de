"""The simulated kubelet's knowledge of the node: which images exist, what containers log, and
what runs inside them.

Controllers (controllers/pods.py, podstatus.py) ask here what a pull of an image answers and what a
container prints, so the catalogue and the log lines stay data, apart from the pod state machine.
The API's streaming subresources ask here what a container does: exec.py (commands, with the tiny
sh of shell.py, its pty in terminal.py, curl/wget in curl.py, tar in tarcmd.py over the
container's files in files.py) and listeners.py (what answers on a pod's ports, for port-forward
and curl).
"""
