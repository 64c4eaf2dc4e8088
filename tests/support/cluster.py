"""The cluster of bench/cluster.py seen through the tests' helpers: each way in (a node's own
HTTPS port, or HAProxy's) is a RunningAppliance, so consoles, customers and API calls work
on it unchanged."""

from __future__ import annotations

import os
import subprocess

import pytest

from bench.cluster import Cluster, Node, haproxy_available
from tests.support.appliance import RunningAppliance, ScratchDatabase

needs_cluster = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL") and haproxy_available()),
    reason="needs DATABASE_URL (PostgreSQL), REDIS_URL (Redis) and haproxy",
)


class Entry(RunningAppliance):
    """One way into the cluster. Not started or stopped through here: the cluster does that."""

    def __init__(self, cluster: Cluster, database: ScratchDatabase, node: Node | None = None) -> None:
        # RunningAppliance.__init__ would pick ports and make a database: the cluster has both.
        self.cluster = cluster
        self.node = node
        self.data_dir = cluster.data_dir
        self.hostname = node.hostname if node else cluster.nodes[0].hostname
        self.https_port = node.https_port if node else cluster.port
        self.http_port = node.http_port if node else 0
        self.owns_database = False
        self.database = database
        self.env = {}
        self.file_limit = None
        self.log_path = node.log_path if node else cluster.haproxy_log
        self._db = None

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        # A hung handshake asks `process` to log its threads (SIGUSR1): a node's, never
        # HAProxy's (to which SIGUSR1 means "stop").
        return self.node.process if self.node else None

    @process.setter
    def process(self, value: subprocess.Popen[bytes] | None) -> None:
        raise AttributeError("the cluster starts and stops its nodes")

    def start(self) -> None:
        raise AttributeError("the cluster starts its nodes")

    def stop(self) -> None:
        raise AttributeError("the cluster stops its nodes")
