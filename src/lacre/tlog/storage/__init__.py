"""Storage drivers for the log engine, one per database engine, sharing one contract."""

from lacre.tlog.storage.base import LogInfo, LogState, LogStore, WriteTransaction

__all__ = ["LogInfo", "LogState", "LogStore", "WriteTransaction"]
