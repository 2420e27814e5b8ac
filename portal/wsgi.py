import os

import django

from portal.handlers import PortalWSGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# A web server logs in as the web role (DATABASE_URL), never the worker's (portal.settings).
os.environ["PORTAL_PROCESS"] = "web"
django.setup(set_prefix=False)  # as django.core.wsgi.get_wsgi_application does

# Django's WSGI handler, with a shorter middleware chain for API token requests.
application = PortalWSGIHandler()
