"""The small CLI commands a data engineer on call relies on."""

import socket
import subprocess
import sys

import sqlalchemy as sa

from sanzi_audit import store
from sanzi_audit.registry import load_detectors


def sanzi(*args):
    return subprocess.run([sys.executable, "-m", "sanzi_audit.cli", *args], capture_output=True, text=True)


def test_detectors_lists_every_detector_with_its_parameters():
    r = sanzi("detectors")
    assert r.returncode == 0
    for name, cls in load_detectors().items():
        assert f"{name} {cls.version} — {cls.title}" in r.stdout
        for p in cls.Params.model_fields:
            assert f"    {p} = " in r.stdout, (name, p)


def test_db_current_and_unlock(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    engine = store.connect(url)
    assert "程序需要" in sanzi("db", "current", "--db", url).stdout
    with engine.begin() as c:  # a lock held by a run on another machine
        c.execute(store.run_lock.insert().values(name="nightly", run_label="x", host=socket.gethostname() + "-other",
                                                 pid=1, acquired_at=store.now()))
    r = sanzi("run", "--source", str(tmp_path), "--db", url)
    assert r.returncode == 2 and "另一次运行正在写入" in r.stderr and "Traceback" not in r.stderr
    assert "已清除运行锁" in sanzi("db", "unlock", "--db", url).stdout
    with engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(store.run_lock)).scalar() == 0
    store.dispose(url)
