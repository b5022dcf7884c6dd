from django.urls import re_path

from dashboard.consumers import DashboardConsumer

# The original mobile client connects without the trailing slash.
websocket_urlpatterns = [
    re_path(r"^ws/dashboard/?$", DashboardConsumer.as_asgi()),
]
