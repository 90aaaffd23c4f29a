"""Running plans: execute, verify, remember ownership; later the transaction.

The engine orchestrates over small interfaces (`ports.Reader`, `ports.Writer`,
a clock, a store) and never imports the kernel layer itself, so most of it is
tested with in-memory fakes; the CLI and the daemon wire in the real kernel.
"""
