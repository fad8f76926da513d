"""Custom operators: the five campaign actions."""
