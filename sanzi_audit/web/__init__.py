"""The auditors' review page: FastAPI + Jinja2, server-rendered, over the same review database (store.py)."""
