"""The versioned JSON API at /api/v1/: one NinjaAPI, each app contributing a router from its api.py."""

from ninja import NinjaAPI

api = NinjaAPI(title="Careline API", version="1", urls_namespace="api")
