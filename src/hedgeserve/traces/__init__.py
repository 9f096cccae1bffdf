"""Spot-capacity traces: capacity(zone, t) = how many spot instances can be held in a zone.

A drop below the number running preempts the excess. Loaders turn each public format into one
`Trace`; the simulator and the spot emulator replay it. Entry point: `catalog.load_trace(ref)`.

    model             Trace, UNLIMITED
    catalog           load_trace / list_bundled: names, files, folders, globs -> Trace
    bundled           traces shipped in the package (gcp-h100)
    formats           recognise a file's format from its content
    skypilot_json     per-zone JSON files (skypilot spot-traces, SkyServe artifact)
    json_folder       a folder of them, with the known zone start offsets
    probe_csv         SkyNomad's GCP H100 probe CSV
    capacity_csv      hedgeserve's compact timestamped capacity table (the bundled form)
    timeline          timestamped rounds -> regular ticks, with marked fills
    availability_csv  timestamped 0/1 availability CSVs + per-tick prices (AWS V100)
    event_log         SpotServe add/remove logs and replay scripts
    prices            the list-price catalog for traces without prices
    request_log       request logs (token counts, arrival times) for the planner and simulator
"""
