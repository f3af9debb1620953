"""Delivery channels: one module per channel over a small interface (see base.py)."""
