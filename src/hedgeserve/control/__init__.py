"""The live controller: a level-triggered reconcile loop that applies the decision core to real
replicas through a provider, with its state in SQLite.

Module map: `provider` (the Provider protocol, its events and error classes), `lifecycle`
(replica states and the allowed transitions), `records` (rows as dataclasses), `store` (SQLite),
`transitions` (pure: provider view + probes -> new replica rows and zone events), `probe`
(readiness rules + aiohttp prober), `recovery` (re-adopt or clean up after a restart),
`actuate` (intents first, then provider calls), `reconcile` (the tick and the loop), `clock`,
`request_rate`, `policy_setup` (spec -> policy and autoscaler, their state as JSON),
`gateway_link` (the gateway process and its admin API), `status` (the status document),
`api` (the control API the CLI talks to), `state_dir` (file layout), `process_identity` (pid +
start time, process groups, env tags), `teardown` (`hedge down`), `runtime` (one controller
process). See docs/live.md. Providers live in `hedgeserve.providers`; nothing here imports them.
"""
