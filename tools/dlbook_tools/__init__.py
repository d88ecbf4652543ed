"""Tooling of the book (not part of the reader-facing library): editions, notebooks, build, exercises."""
