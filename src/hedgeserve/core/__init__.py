"""The decision core: pure policies. Observation in, decisions out; no clock, no I/O, no logging.

The simulator (`hedgeserve.sim`) and the live controller (`hedgeserve.control`) both call
these functions, so a policy is written once and behaves the same in both bodies.
"""
