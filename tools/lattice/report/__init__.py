"""One picture of many runs: the telemetry, JUnit XML and figures of shards, jobs and suites, merged."""
