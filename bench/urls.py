from django.urls import path

from bench.floor import appointment_list_floor
from cybermed.urls import urlpatterns as product_urlpatterns

urlpatterns = [
    path("bench/floor/appointments/", appointment_list_floor, name="bench-floor-appointments"),
    *product_urlpatterns,
]
