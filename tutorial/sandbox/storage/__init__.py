"""The sandbox's etcd: the in-memory object store and its persistence.

store.py holds objects by (group, resource), namespace and name with resourceVersions, history,
watches and subscribers; objects.py has what everything above shares (resource keys, store errors,
JSON helpers); selectors.py parses and matches label and field selectors; persist.py journals the
store to disk and loads it back. Nothing here knows about HTTP, controllers or Istio.
"""
