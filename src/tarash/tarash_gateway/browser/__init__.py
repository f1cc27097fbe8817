"""The cassette browser: ``tarash cassette serve PATH``, a read-only Datasette with media and timelines.

Needs the ``browser`` extra (``pip install 'tarash-gateway[browser]'``). Nothing here
is imported by the gateway itself: :mod:`.server` starts it, :mod:`.plugin` is the
Datasette plugin, :mod:`.pages` and :mod:`.blobs` its routes, :mod:`.views`,
:mod:`.timeline` and :mod:`.ranges` the pure parts they share.
"""

__all__: list[str] = []
