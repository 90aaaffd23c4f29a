"""Hostile inputs of bondd's own making: files and control requests that once hurt."""
