"""The bondd daemon: keeps the kernel converged to the committed configuration.

One thread owns the kernel and the transaction: a selector loop over the
netlink event socket, the control socket, a signal wake-up fd and a
self-pipe fed by the config-directory watcher. Nothing else touches the
kernel, so no locks are needed around netlink, and a burst of events
collapses into one pass.
"""
