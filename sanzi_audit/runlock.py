"""One run at a time per review database: a lock row that names its holder, taken over only from a dead process
on this host (``sanzi db unlock`` otherwise)."""

from __future__ import annotations

import os

import sqlalchemy as sa

from .schema import now, run_lock, runs


class RunLockedError(RuntimeError):
    """Another run is writing this review database."""


def acquire_run_lock(engine: sa.Engine, label: str) -> None:
    """Take the database's run lock, or refuse with who holds it. A lock left by a dead process on this
    host is taken over; one held elsewhere is never broken automatically (``sanzi db unlock``)."""
    import socket

    host, pid = socket.gethostname(), os.getpid()
    with engine.begin() as conn:
        held = conn.execute(sa.select(run_lock).where(run_lock.c.name == "nightly")).first()
        if held is not None:
            if held.host == host and not _alive(held.pid):
                conn.execute(run_lock.delete().where(run_lock.c.name == "nightly", run_lock.c.pid == held.pid))
            else:
                raise RunLockedError(_held_message(held))
        # whoever holds the lock now is the only run: a row still 'running' is a run that died (kill -9, a lost
        # machine) without marking itself; it failed, and the overview must not show it as 运行中 forever
        conn.execute(runs.update().where(runs.c.status == "running").values(
            status="failed", finished_at=now(),
            message=f"运行中断（进程被终止或主机停止），由下一次运行（主机 {host} 进程 {pid}）于接管运行锁时标记为失败"))
    try:
        with engine.begin() as conn:
            conn.execute(run_lock.insert().values(name="nightly", run_label=label, host=host, pid=pid,
                                                  acquired_at=now()))
    except sa.exc.IntegrityError as exc:  # lost a race with a run that started at the same moment
        raise RunLockedError("另一次运行刚刚开始写入此审查库，本次运行已取消") from exc


def check_run_lock(engine: sa.Engine) -> None:
    """Refuse early (before any work starts) when a live run holds the lock."""
    import socket

    with engine.connect() as conn:
        held = conn.execute(sa.select(run_lock).where(run_lock.c.name == "nightly")).first()
    if held is not None and not (held.host == socket.gethostname() and not _alive(held.pid)):
        raise RunLockedError(_held_message(held))


def _held_message(held) -> str:
    return (f"另一次运行正在写入此审查库（{held.run_label}，主机 {held.host} 进程 {held.pid}，开始于 "
            f"{held.acquired_at} UTC）。请等待其结束；若确认它已终止，运行 sanzi db unlock --db URL")


def release_run_lock(engine: sa.Engine, force: bool = False) -> int:
    with engine.begin() as conn:
        q = run_lock.delete().where(run_lock.c.name == "nightly")
        if not force:
            q = q.where(run_lock.c.pid == os.getpid())
        return conn.execute(q).rowcount


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
