"""Retrace: sign in by one-time code, save marks with attachments, ingest them in the background."""
