"""The read-only HTTP view of the instance's TUF repository."""
