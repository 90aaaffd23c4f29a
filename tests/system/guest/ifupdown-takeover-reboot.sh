#!/bin/sh
# Takeover scenarios, boot 3: a reboot with ifupdown's networking.service
# enabled: bondd alone brings the bond up, and an apply of a change works.
. /lab/takeover-common.sh
after_reboot ifupdown ifupdown
finish
