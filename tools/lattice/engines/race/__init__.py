"""The race suite's plumbing (`nox -s race`): requests fired at once, and what must hold afterwards.

- `firing`: a batch of calls released together by a barrier, each answer timed;
- `registers`: which final values a set of overlapping acknowledged writes allows;
- `observe`: what the stack holds (rows, blob files, the queue, pg_stat_activity, RSS, its log);
- `rawhttp`: requests httpx cannot express (stalled bodies, slow or huge headers, aborts);
- `burst`: N concurrent clients for a few rounds, latency percentiles and status counts;
- `figures`: what the suite did, merged over xdist workers into `logs/race.json` and the end summary;
- `classes`: the defect classes and the operations of the document each one sweeps;
- `requests_for`: a valid request for any operation, built from the document;
- `stalls`, `bystanders`: slow peers over raw sockets, and ordinary requests timed against a baseline;
- `oversize`: requests grown part by part past a bound, and whether the refusal came before the end;
- `odd_values`: odd values for anything parsed (Unicode digits, wrong-typed opaque tokens, ...).
"""
