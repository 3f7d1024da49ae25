from django.apps import AppConfig


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from reports.queries import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="reports_sqlite_functions")
