"""Start-up in a fresh process with the object store, multi-host and metrics settings: bad values stop it
naming the variable; a complete S3 configuration selects django-storages' S3 backend."""

from __future__ import annotations

import pytest

from careline.core.tests.test_settings_startup import SETUP, run

S3 = {"CARELINE_STORAGE": "s3", "CARELINE_S3_BUCKET": "uploads"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CARELINE_STORAGE": "s3"}, "CARELINE_S3_BUCKET: required when CARELINE_STORAGE=s3"),
        ({"CARELINE_STORAGE": "nfs"}, "CARELINE_STORAGE: expected one of local, s3"),
        ({**S3, "CARELINE_S3_ACCESS_KEY_ID": "key"}, "set both (or neither"),
        (
            {**S3, "CARELINE_S3_ENDPOINT_URL": "ftp://store.internal"},
            "CARELINE_S3_ENDPOINT_URL: expected a URL",
        ),
        ({**S3, "CARELINE_S3_ADDRESSING_STYLE": "dns"}, "CARELINE_S3_ADDRESSING_STYLE: expected one of"),
        ({"CARELINE_MULTI_HOST": "yes"}, "CARELINE_MULTI_HOST: expected one of auto, true, false"),
        ({"CARELINE_METRICS_TOKEN": "short"}, "CARELINE_METRICS_TOKEN: must be at least 32 characters"),
    ],
)
def test_bad_values_stop_start_up_naming_the_variable(tmp_path, env, message):
    result = run(["-c", SETUP], tmp_path, **env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "ConfigurationError" in result.stderr


def test_a_complete_s3_configuration_selects_the_s3_backend(tmp_path):
    code = (
        SETUP
        + "; from django.conf import settings; d = settings.STORAGES['default']; print(d['BACKEND'], d['OPTIONS']['location'], d['OPTIONS']['endpoint_url'])"
    )
    result = run(
        ["-c", code],
        tmp_path,
        **S3,
        CARELINE_S3_ENDPOINT_URL="https://minio.internal:9000",
        CARELINE_S3_PREFIX="/clinic-a/",
        CARELINE_S3_ACCESS_KEY_ID="key",
        CARELINE_S3_SECRET_ACCESS_KEY="secret",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "storages.backends.s3.S3Storage",
        "clinic-a",
        "https://minio.internal:9000",
    ]
