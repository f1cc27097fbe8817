"""The cassette browser: `tarash cassette serve PATH`, a read-only Datasette with media and timelines.

Needs the `browser` extra (`pip install 'tarash-gateway[browser]'`). Nothing here
is imported by the gateway itself: `server` starts it, `plugin` is the
Datasette plugin, `pages` and `blobs` its routes, `views`,
`timeline` and `ranges` the pure parts they share.
"""

__all__: list[str] = []
