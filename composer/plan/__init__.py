"""Observe -> plan -> execute: the pure reconcile step and the plan it produces."""
