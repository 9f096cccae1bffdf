"""GPU-mix planner (Mélange): the cheapest set of GPU types for a workload under a latency SLO.

Layout (pure modules first, shells last):

- `buckets`, `workload`: request-size buckets and the load each one carries (pure).
- `capacity`, `analytical`: the highest request rate one replica sustains per bucket under the
  SLO, from a roofline model of the GPU and the model (pure).
- `solver`: the integer program (SciPy `milp`, imported lazily) and single-type baselines (pure).
- `planning`: wires workload, capacities and prices into one plan with baselines (pure).
- `report`, `service_spec`: the plan as JSON and as a SkyServe-compatible service spec (pure).
- `catalog`, `models`, `profile_file`: data files in and out (I/O at the edge); request logs
  are read by `hedgeserve.traces.request_log`.
- `loadgen`, `profiler`: `hedge profile`, an OpenAI-API load generator (aiohttp).
- `plot`: cost against rate for the mix and each single type (matplotlib, imported lazily).
"""
