"""Evaluation: the reference interpreter, the vectorized backend, the evaluation API."""
