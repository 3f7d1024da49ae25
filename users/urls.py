from django.urls import path

from users import views

urlpatterns = [
    path("account/activate/<str:uid>/<str:token>/", views.activate, name="account-activate"),
    path("account/password-reset/<str:uid>/<str:token>/", views.password_reset, name="account-password-reset"),
]
