"""The C2SP tlog-tiles read API of a log."""
