"""`bondctl`, the admin's command-line tool: one module per subcommand.

The CLI is the only layer that prints and exits; everything below it raises
`BonddError`s and returns values.
"""
