"""`bondctl takeover --from SOURCE [PATH...]`: adopt another manager's bonds, without a flap.

Imports the source's bonds (as `bondctl import`), validates and plans. A
host that source configured plans empty; if the plan is not empty it is
shown and nothing happens unless --yes. Then one transaction, with the
usual snapshot, probes (the bonds' gateways) and confirm window: the YAML
is written to the config directory and the other manager lets go of
exactly those interfaces (NetworkManager: an unmanaged-devices drop-in and
`nmcli general reload`; networkd: its files for them moved aside;
ifupdown: their stanzas commented out). A rollback (failed probe, no
confirmation) restores every one of those files byte for byte. The kernel's
bonds are adopted as they are, never recreated. Every file changed is
printed.

Exit codes: 0 taken over, 1 declined or the plan is not empty, 3 rolled
back, 64 the source cannot be handed over, 65 a value cannot be translated.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from bondd import config, handoff
from bondd.cli import apply as apply_cmd
from bondd.cli import context, import_cmd, output
from bondd.engine.converge import make_plan
from bondd.engine.pending import StagedFile
from bondd.engine.transaction import Proposal, Status
from bondd.engine.transaction import begin as begin_transaction
from bondd.render import plan as render


def register(subparsers: Any, parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "takeover",
        parents=[parent],
        help="adopt another network manager's bonds and make it let go of them",
        description=__doc__.split("\n\n", 2)[1] if __doc__ else None,
    )
    import_cmd.add_source_arguments(parser)
    parser.add_argument(
        "--yes", "-y", action="store_true", help="go ahead even if the plan is not empty"
    )
    parser.add_argument(
        "--confirm-timeout",
        type=float,
        default=0.0,
        metavar="N",
        help="roll back (and restore the other manager's files) unless confirmed within N seconds",
    )
    parser.add_argument(
        "--no-probes", action="store_true", help="skip the connectivity probes of the bonds"
    )
    parser.add_argument("--nm-dropin", type=Path, default=handoff.NM_DROPIN, help=argparse.SUPPRESS)
    parser.set_defaults(run=run)


def proposal(args: argparse.Namespace) -> tuple[Proposal, list[StagedFile]]:
    found, text = import_cmd.imported_yaml(args)
    if not found.bonds:
        output.die(f"no bond found in the {args.source} files", exit_code=os.EX_NOINPUT)
    dirs = args.config_dirs or list(config.DEFAULT_DIRS)
    target = dirs[0] / f"60-takeover-{args.source}.yaml"
    data = text.encode()
    old = target.read_bytes().decode() if target.exists() else None
    ours = StagedFile(str(target), text, old)
    theirs = handoff.staged_files(found, args.nm_dropin)
    staged = {target: data}
    desired = config.load_desired(dirs, explicit=bool(args.config_dirs), staged=staged)
    found_files = config.check(dirs, explicit=bool(args.config_dirs), staged=staged).files
    bonds = tuple(b.name for b in found.bonds)
    the_proposal = Proposal(
        desired, config.content_hash(found_files, staged), (ours, *theirs), adopting=bonds
    )
    return the_proposal, [ours, *theirs]


def run(args: argparse.Namespace) -> int:
    the_proposal, files = proposal(args)
    context.require_root("bondctl takeover")
    with context.host(args) as host:
        context.settle_pending(args, host)
        plan, _ = make_plan(the_proposal.desired, host.reader, host.store)
        if not plan.empty:
            print(render.plan_text(plan))
            if not args.yes:
                print(
                    "the kernel does not match the imported configuration; nothing changed"
                    " (look at the plan, or take over anyway with --yes)",
                    file=sys.stderr,
                )
                return apply_cmd.EX_DECLINED
        print(f"taking over {', '.join(the_proposal.adopting)} from {args.source}; files:")
        for item in files:
            line = handoff.describe(item)
            if line:
                print(f"  {line}")
        result = begin_transaction(
            host, the_proposal, confirm_timeout=args.confirm_timeout, probes=not args.no_probes
        )
        if result.status is Status.WAITING:
            result = apply_cmd._confirm_window(args, host, result, the_proposal.hash)
    if result.status is Status.ROLLED_BACK:
        print("rolled back: every file above is restored", file=sys.stderr)
    return apply_cmd._report(args, result)
