"""Sign-in by one-time code, bearer tokens, and the hashing both rely on."""
