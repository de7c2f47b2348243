"""Transparency-log formats and algorithms: signed notes, checkpoints, tiles and Merkle proofs."""
