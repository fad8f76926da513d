"""Campaigns moving from DAM status A1 to A2 once their Box master assets arrive."""
