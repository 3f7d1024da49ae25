from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from cybermed.api.views import HealthView
from messaging.api.views import RealtimeProtocolView

# The API has no home page of its own: "/" and the admin's "View site" lead to its documentation.
admin.site.site_url = "/api/docs/"
admin.site.site_header = "CyberMed administration"
admin.site.site_title = "CyberMed admin"
admin.site.index_title = "CyberMed front desk"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="swagger-ui"), name="home"),
    path("admin/", admin.site.urls),
    path("api/health/", HealthView.as_view(), name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/", include("users.api.urls")),
    path("api/", include("appointments.api.urls")),
    path("api/", include("calendars.api.urls")),
    path("api/", include("consultations.api.urls")),
    path("api/", include("notifications.api.urls")),
    path("api/", include("reports.api.urls")),
    path("api/", include("messaging.api.urls")),
    path("api/docs/realtime/", RealtimeProtocolView.as_view(), name="realtime-protocol"),
    path("api/", include("payments.api.urls")),
    path("fhir/", include("fhir_api.urls")),
    path("", include("users.urls")),
    path("", include("calendars.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "cybermed.api.views.json_bad_request"
handler403 = "cybermed.api.views.json_permission_denied"
handler404 = "cybermed.api.views.json_not_found"
handler500 = "cybermed.api.views.json_server_error"
