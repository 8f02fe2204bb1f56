"""Figures, tables and HTML per tab, made from the runners' results (never from models)."""
