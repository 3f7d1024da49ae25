from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from users import checks  # noqa: F401  (registers the deploy checks)
        from users.directory_count import user_or_profile_written
        from users.models import DoctorProfile, User
        from users.user_cache import forget_saved_or_deleted_user

        # Cache invalidation, not business logic: any write to a user row must drop its cached copy.
        post_save.connect(forget_saved_or_deleted_user, sender=User, dispatch_uid="users.user_cache.save")
        post_delete.connect(forget_saved_or_deleted_user, sender=User, dispatch_uid="users.user_cache.delete")
        for model in (User, DoctorProfile):
            for signal, name in ((post_save, "save"), (post_delete, "delete")):
                uid = f"users.directory_count.{model.__name__}.{name}"
                signal.connect(user_or_profile_written, sender=model, dispatch_uid=uid)
