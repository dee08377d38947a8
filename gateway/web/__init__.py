"""Web pages of the gateway: `templates/`, `static/` (vendored assets, never a CDN), `routes.py`.

The PCC operators' console and the analysts' dashboard go here, server-rendered, talking to
the same service as the API (`gateway/api/`).
"""
