"""Profile pictures on S3-compatible storage (S3_BUCKET set), against moto's S3 server on 127.0.0.1.

The server is moto's real HTTP server (not an in-process mock of boto3), so the requests, the signatures
and the URLs are those a bucket on AWS, MinIO or another S3-compatible service would see.
"""

import runpy
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from users.tests.test_pictures import ME, image_bytes, upload

pytestmark = pytest.mark.django_db

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "cybermed" / "settings.py"
BUCKET = "cybermed-media-test"
CREDENTIALS = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret", "region_name": "eu-west-1"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture
def s3_storage(settings, s3_endpoint, monkeypatch) -> Iterator:
    """STORAGES as settings.py builds them from the S3_* variables; returns a client to inspect the bucket."""
    env = {
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_REGION": "eu-west-1",
        "S3_ACCESS_KEY_ID": "test-key",
        "S3_SECRET_ACCESS_KEY": "test-secret",
        "S3_ADDRESSING_STYLE": "path",
        "S3_URL_EXPIRE_SECONDS": "600",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS)
    # A fresh, empty bucket for each test.
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    settings.STORAGES = runpy.run_path(str(SETTINGS_FILE))["STORAGES"]
    yield client
    for key in bucket_keys(client):
        client.delete_object(Bucket=BUCKET, Key=key)
    client.delete_bucket(Bucket=BUCKET)


def bucket_keys(client) -> set[str]:  # noqa: ANN001
    return {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_storage_is_the_filesystem_unless_a_bucket_is_named(monkeypatch):
    monkeypatch.delenv("S3_BUCKET", raising=False)
    storages = runpy.run_path(str(SETTINGS_FILE))["STORAGES"]
    assert storages["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"


def test_user_upload_picture_goes_to_the_bucket_as_a_private_object_behind_a_signed_url(
    client_for, patient, s3_storage, s3_endpoint
):
    response = client_for(patient).patch(
        ME, {"profile_picture": upload(image_bytes("PNG"), "a.png")}, format="multipart"
    )

    assert response.status_code == 200, response.content
    url = response.json()["profile_picture"]
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == s3_endpoint
    assert parts.path.startswith(f"/{BUCKET}/media/profile_pictures/")
    query = parse_qs(parts.query)
    assert query["X-Amz-Expires"] == ["600"]
    assert "X-Amz-Signature" in query

    (key,) = bucket_keys(s3_storage)
    assert key.startswith("media/profile_pictures/")
    grants = s3_storage.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]  # the owner only: no public read
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200
    assert fetched.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_user_replace_picture_deletes_the_old_object(
    client_for, patient, s3_storage, django_capture_on_commit_callbacks
):
    client = client_for(patient)
    client.patch(ME, {"profile_picture": upload(image_bytes("PNG"), "a.png")}, format="multipart")
    (first,) = bucket_keys(s3_storage)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(ME, {"profile_picture": upload(image_bytes("JPEG"))}, format="multipart")

    assert response.status_code == 200
    (second,) = bucket_keys(s3_storage)
    assert second != first
    assert second.endswith(".jpg")


def test_user_remove_picture_deletes_the_object(client_for, patient, s3_storage, django_capture_on_commit_callbacks):
    client = client_for(patient)
    client.patch(ME, {"profile_picture": upload(image_bytes("PNG"), "a.png")}, format="multipart")
    assert len(bucket_keys(s3_storage)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(ME, {"profile_picture": None}, format="json")

    assert response.status_code == 200
    assert response.json()["profile_picture"] is None
    assert bucket_keys(s3_storage) == set()
