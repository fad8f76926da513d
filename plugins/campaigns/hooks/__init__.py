"""Hooks: the DAM, Box and the tracking database, one module each."""
