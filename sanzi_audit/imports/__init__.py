"""Reading real exports: 金蝶, 用友, 村级三资 systems, 一卡通 rolls and registers, through declarative profiles.

See docs/importing.md. ``reader.read_folder`` is the entry point used by ``sources.extract``; ``sanzi inspect``
prints its per-file reports.
"""
