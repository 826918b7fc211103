"""The benchmark: what users feel (one event in flight, a full queue, approvals, HTTP ingest,
event to first step, CLI start-up), each against the storage's raw commit measured in the same
run. One module per workload; ``run`` puts them together."""
