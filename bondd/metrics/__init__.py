"""bondd's metrics: what node_exporter's MII-only bonding collector cannot see.

`exposition` writes Prometheus text format, `view` turns bondd's status
view (the kernel's bonds, the LACP verdicts, the configuration, the state
directory's records) into metric families, `collect` gathers those inputs,
`textfile` writes the result atomically for node_exporter's textfile
collector. Nothing here listens on a port.
"""
