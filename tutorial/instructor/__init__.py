"""Instructor fleet commands: status, prepare and reset of many lab clusters at once.

`selection` picks kubeconfig contexts, `fleet` runs one job per cluster with bounded
concurrency and per-cluster deadlines, `prepare`/`status`/`reset` are the jobs, `render`
draws rich tables. Never imports textual.
"""
