"""A review database with published leads and users, served by a real uvicorn server in a thread."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from sanzi_audit import pipeline, store
from sanzi_audit.config import load_config
from sanzi_audit.sources import extract
from sanzi_audit.web import auth
from sanzi_audit.web.app import create_app

PASSWORD = "correct-horse-7"
SECRET = b"t" * 48


def fill_review_db(url: str, source) -> None:
    """The nightly stages without Prefect: extract → validate → load → detect → rank → publish."""
    config = load_config()
    engine = store.connect(url)
    run_id = store.start_run(engine, str(source), {})
    validated = pipeline.validate_all(extract(source), config)
    pipeline.load(engine, validated, run_id)
    leads, _ = pipeline.detect(pipeline.detector_input(engine, validated, run_id, config), config)
    ranked = pipeline.rank(leads, config, engine)
    pipeline.publish(engine, ranked, run_id)
    store.record_places(engine, pipeline.places_of(validated, config))
    store.finish_run(engine, run_id, status="success", counts=[c.__dict__ for c in pipeline.counts_of(validated)])


def add_users(url: str, townships: list[str]) -> None:
    """li: auditor of the first township; wang: auditor of the second; zhao: supervisor with unmask; admin."""
    engine = store.connect(url)
    auth.add_user(engine, "li", PASSWORD, "auditor", townships[0], "李核查")
    auth.add_user(engine, "wang", PASSWORD, "auditor", townships[1], "王核查")
    auth.add_user(engine, "zhao", PASSWORD, "supervisor", townships[0], "赵组长", can_unmask=True)
    auth.add_user(engine, "admin", PASSWORD, "admin", "*", "管理员")


def review_site(tmp_path_factory, source, name: str):
    """A filled review database, four users scoped by village, and a running server: yields
    (server, engine, villages ordered by their number of fraud leads)."""
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path_factory.mktemp(name) / 'review.db'}"
    fill_review_db(url, source)
    engine = store.connect(url)
    with engine.connect() as c:
        villages = [r[0] for r in c.execute(sa.text(
            "SELECT village_code FROM leads WHERE detector != 'data_quality' GROUP BY village_code "
            "ORDER BY count(*) DESC"))]  # the small county has one township: scopes are villages here
    assert len(villages) >= 2
    add_users(url, villages)
    with Server(url) as server:
        yield server, engine, villages
    store.dispose(url)


class Server:
    def __init__(self, url: str):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(create_app(url, secret=SECRET), host="127.0.0.1", port=self.port, log_level="error")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("review page did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
