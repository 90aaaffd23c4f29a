"""Stand-in for the pip bootstrap script ansible-test downloads into its cache.

ansible-test creates each sanity test's virtualenv without pip and fetches
get-pip.py from ci-files.testing.ansible.com to put pip in; this machine
(and CI runners without that host) cannot reach it. ansible-test runs the
cached script with the pinned packages it wants (pip, setuptools, wheel) as
arguments, so this one does the same with the interpreter's own ensurepip
and then pip itself, from the configured package index.
"""

import ensurepip
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
wanted = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
subprocess.check_call(
    [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", *wanted]
)
