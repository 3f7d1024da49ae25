"""Settings for the benchmark server only: the product settings plus the floor view's URLs.

Never used in production: the floor view trusts a user id in the query string.
"""

from cybermed.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# The benchmark's own app (its `seed_bench` command), kept out of the product's INSTALLED_APPS.
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405
