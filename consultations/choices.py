from django.db import models


class AccessAction(models.TextChoices):
    LIST = "list", "Listed"
    VIEW = "view", "Viewed"
    HISTORY = "history", "Viewed revisions"
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"


class AccessChannel(models.TextChoices):
    API = "api", "API"
    ADMIN = "admin", "Admin"
