"""Evaluation: the shared plan (plan.py), the result-column names (columns.py), the
reference interpreter, the vectorized backend, and the evaluation API (evaluate.py)."""
