"""The `mark_ingestion` queue: broker factory, the actor, and what the actor computes."""
