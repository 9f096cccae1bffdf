"""Trace-driven discrete-event simulator.

It replays a spot trace as a fake cloud (capacity per zone over time), lets a core policy act on
it through the same `Observation -> Decision` contract the live controller uses, and serves a
request workload on the replicas that are ready. Deterministic for a seed.
"""
