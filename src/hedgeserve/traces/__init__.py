"""Spot-capacity traces: capacity(zone, t) = how many spot instances can be held in a zone.

A drop below the number running preempts the excess. Loaders turn each public format into one
`Trace`; the simulator and the spot emulator replay it.
"""
