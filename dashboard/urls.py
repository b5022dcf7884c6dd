from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.god_mode, name="god_mode"),
    path("dashboard/token/", views.dashboard_token, name="token"),
]
