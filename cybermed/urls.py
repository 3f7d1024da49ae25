from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from cybermed.api.views import HealthView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/health/", HealthView.as_view(), name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/", include("users.api.urls")),
    path("api/", include("appointments.api.urls")),
    path("api/", include("consultations.api.urls")),
    path("api/", include("notifications.api.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "cybermed.api.views.json_bad_request"
handler403 = "cybermed.api.views.json_permission_denied"
handler404 = "cybermed.api.views.json_not_found"
handler500 = "cybermed.api.views.json_server_error"
