"""sanzi-audit: ranked 疑点线索 from village collective 三资 ledgers."""
__version__ = "0.1.0"
