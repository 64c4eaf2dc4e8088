"""The support-session engine: session keys, queues, the session lifecycle and its event log.

Pure of HTTP and XML: adapters call `actions` for every change and `queries` for reads.
"""
