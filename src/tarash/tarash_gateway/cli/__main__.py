"""``python -m tarash.tarash_gateway.cli``: the same as the ``tarash`` command."""

from . import main

main(prog_name="tarash")
