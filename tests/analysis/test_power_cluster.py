"""Simulated power on a Dask cluster (issue 26.5): joblib's Dask backend, the same result as a local run.

A ``dask.distributed.LocalCluster`` on the loopback address stands in for a lab's cluster: the
toolkit is pointed at its scheduler by address (``scheduler=`` / ``DASK_SCHEDULER_ADDRESS``)
exactly as at a real one.  Dask is the ``cluster`` extra; ``make setup`` installs it, so CI has it.
"""
from __future__ import annotations

import pytest

from analysis.errors import AnalysisError
from analysis.power.simulated import simulation_power

distributed = pytest.importorskip("distributed", reason="the cluster extra (make setup installs it)")


@pytest.fixture(scope="module")
def scheduler():
    # worker processes of their own, reached through the scheduler's TCP address: the tasks are
    # pickled and run elsewhere, as on a lab's machines
    with distributed.LocalCluster(host="127.0.0.1", n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, protocol="tcp") as cluster:
        yield cluster.scheduler_address


def _summary(r):
    return [(t.name, t.rejections, t.undefined, t.power) for t in r.tests]


@pytest.mark.parametrize("pid,n", [("pollock1998", 12), ("regan1971", 10)])
def test_a_cluster_gives_the_local_result_for_the_same_seed(scheduler, pid, n):
    assert scheduler.startswith("tcp://127.0.0.1:")
    local = simulation_power(pid, 1, n=n, simulations=40, seed=9)
    remote = simulation_power(pid, 1, n=n, simulations=40, seed=9, scheduler=scheduler)
    assert _summary(remote) == _summary(local)
    assert remote.to_dict() == local.to_dict()


def test_the_scheduler_address_can_come_from_the_environment(scheduler, monkeypatch):
    import distributed as d

    seen = []
    real = d.Client

    class Spy(real):
        def __init__(self, address=None, *a, **k):
            seen.append(address)
            super().__init__(address, *a, **k)

    monkeypatch.setattr(d, "Client", Spy)
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", scheduler)
    r = simulation_power("pollock1998", 1, n=12, simulations=8, seed=2)
    assert seen == [scheduler]
    assert _summary(r) == _summary(simulation_power("pollock1998", 1, n=12, simulations=8, seed=2, scheduler=""))


def test_an_unreachable_scheduler_is_a_one_line_error(monkeypatch):
    import analysis.power.simulated as sp

    monkeypatch.setattr(sp, "_CONNECT_TIMEOUT", "2s")
    with pytest.raises(AnalysisError, match=r"tcp://127\.0\.0\.1:9: cannot connect") as e:
        simulation_power("pollock1998", 1, n=12, simulations=4, scheduler="tcp://127.0.0.1:9")
    assert "\n" not in str(e.value)


def test_compliance_power_scheduler_flag(scheduler, cli):
    import json

    base = ["power", "pollock1998", "--n", "12", "--simulations", "20", "--seed", "3", "--json"]
    local = cli(*base, check=0)
    remote = cli(*base, "--scheduler", scheduler, check=0)
    assert json.loads(remote.stdout) == json.loads(local.stdout)


def test_a_multisite_replication_on_the_cluster_gives_the_local_result(scheduler):
    from analysis.power.multisite import multisite_power

    args = ("cialdini1975", 1, 0)
    kw = dict(sites=6, n=20, tau=0.4, simulations=40, seed=7)
    local = multisite_power(*args, **kw)
    assert multisite_power(*args, **kw, scheduler=scheduler).to_dict() == local.to_dict()
    assert multisite_power(*args, **kw, jobs=2).to_dict() == local.to_dict()


def test_compliance_power_sites_on_the_cluster(scheduler, cli):
    import json

    base = ["power", "burger1986", "--sites", "5", "--site-sd", "0.3", "--n", "15", "--simulations", "30",
            "--seed", "2", "--json"]
    local = json.loads(cli(*base, check=0).stdout)
    remote = json.loads(cli(*base, "--scheduler", scheduler, check=0).stdout)
    assert remote == local and local["multisite"][0]["simulations"] == 30
