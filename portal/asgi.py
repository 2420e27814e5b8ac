import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# A web server logs in as the web role (DATABASE_URL), never the worker's (portal.settings).
os.environ["PORTAL_PROCESS"] = "web"
application = get_asgi_application()
