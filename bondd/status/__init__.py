"""What `bondctl status` shows: the report gathered (report.py) and printed (render.py).

One package for both halves because the report carries the last failover
drill of each bond, so it sits above the drill in the layer contract; the
daemon gathers and renders it for the thin client, bondctl does when no
daemon runs. Nothing is imported here: bondctl's thin path stays thin.
"""
