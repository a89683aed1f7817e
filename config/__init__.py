"""The site registry and the province list, shipped as package data of `config` (setup.py)."""
