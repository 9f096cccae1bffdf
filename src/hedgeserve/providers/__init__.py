"""Where replicas run, behind `hedgeserve.control.provider.Provider`.

`local` runs each replica as a process group on this machine; `spot_emulator` wraps it to
replay a real spot-capacity trace (refused launches, preemption notices, kills); `factory`
builds the right one from a spec. SkyPilot and Kubernetes providers are not built yet.
"""
