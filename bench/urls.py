from django.urls import path

from bench import floor
from cybermed.urls import urlpatterns as product_urlpatterns

urlpatterns = [
    path("bench/floor/appointments/", floor.appointment_list_floor, name="bench-floor-appointments"),
    path("bench/floor/doctors/", floor.doctor_list_floor, name="bench-floor-doctors"),
    path("bench/floor/notifications/", floor.notification_list_floor, name="bench-floor-notifications"),
    path("bench/floor/threads/", floor.thread_list_floor, name="bench-floor-threads"),
    *product_urlpatterns,
]
