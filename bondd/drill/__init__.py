"""The failover drill (`bondctl failover-test`), in one package.

- measure.py: pure arithmetic: which bonds may be drilled, which address to
  probe, the gap and lost probes from timed echoes, the report and record.
- run.py: the drill's steps against the kernel, with cleanup that always
  restores what it failed.
- echo.py: the stream of timed ICMP echo probes the gap is measured from.
- records.py: the last drill per bond in the state directory, for status
  and metrics.

The kernel side (failing and restoring a port, watching the bond react) is
bondd/kernel/drill.py, and the CLI command is bondd/cli/failover.py.
"""
