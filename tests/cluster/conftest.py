"""Three appliance nodes on one PostgreSQL, one Redis and one data directory behind HAProxy
(bench/cluster.py), with the help desk's people provisioned; for the whole module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bench.cluster import Cluster
from tests.support.appliance import ScratchDatabase
from tests.support.cluster import Entry
from tests.support.personas import Personas, provision


@dataclass(frozen=True)
class ThreeNodes:
    cluster: Cluster
    nodes: tuple[Entry, Entry, Entry]  # each node's own HTTPS port, to place a connection
    front: Entry  # HAProxy, as customers and reps reach the appliance
    people: Personas


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreeNodes]:
    data_dir = tmp_path_factory.mktemp("cluster")
    database = ScratchDatabase(data_dir)
    cluster = Cluster(data_dir, database_url=database.url, redis_url=os.environ["REDIS_URL"], size=3)
    first, second, third = (Entry(cluster, database, node) for node in cluster.nodes)
    try:
        cluster.start()
        yield ThreeNodes(cluster, (first, second, third), Entry(cluster, database), provision(first))
    finally:
        cluster.stop()
        if first._db is not None:  # the personas' provisioning opened it
            first._db.close()
        database.drop()
