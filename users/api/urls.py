from django.urls import path
from rest_framework.routers import DefaultRouter

from users.api import views

# DefaultRouter would add an API root view at /api/, which every app's include() would shadow.
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.include_format_suffixes = False
router.register("doctors", views.DoctorViewSet, basename="doctor")

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path("auth/login/", views.LoginView.as_view(), name="auth-login"),
    path("auth/login/refresh/", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/social/<str:provider>/", views.SocialLoginView.as_view(), name="auth-social"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/me/", views.MeView.as_view(), name="auth-me"),
    path("auth/password/change/", views.PasswordChangeView.as_view(), name="auth-password-change"),
    path("auth/password/reset/", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path("auth/password/reset/confirm/", views.PasswordResetConfirmView.as_view(), name="auth-password-reset-confirm"),
    path("auth/activate/", views.ActivateView.as_view(), name="auth-activate"),
    path("auth/activate/resend/", views.ActivationResendView.as_view(), name="auth-activate-resend"),
    path("doctor-profile/", views.DoctorProfileView.as_view(), name="doctor-profile"),
    path("patient-profile/", views.PatientProfileView.as_view(), name="patient-profile"),
    path("specialties/", views.SpecialtyListView.as_view(), name="specialty-list"),
    *router.urls,
]
