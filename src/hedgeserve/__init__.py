"""hedgeserve: serve AI/LLM models on spot and on-demand replicas across failure domains.

Layers (imports point downward only; `tests/test_layers.py` enforces it):

    core      pure decisions: placement, fallback, autoscaling, the omniscient optimum
    traces    spot-capacity traces and price catalogs (data in, arrays out)
    spec      the service YAML, validated
    sim       trace-driven discrete-event simulator         (core, traces)
    control   reconcile loop and SQLite state store        (core, traces, spec)
    providers local processes + spot emulator, SkyPilot, Kubernetes (control)
    gateway   HTTP data path: OpenAI-compatible load balancer
    engine    built-in OpenAI-compatible LLM *emulator* replica
    planner   GPU-mix planner (Mélange) and profiler
    cli       the `hedge` command
"""

__version__ = "0.1.0"
