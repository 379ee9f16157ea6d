"""A local S3-compatible object store for tests: moto's server on loopback, and the settings that use it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from careline.core.object_storage import S3Config, s3_storage

TEST_BUCKET = "careline-uploads"
TEST_KEYS = {"access_key_id": "careline-test", "secret_access_key": "careline-test-secret"}


@contextmanager
def moto_s3(bucket: str = TEST_BUCKET, prefix: str = "clinic-a") -> Iterator[S3Config]:
    """A moto S3 server on 127.0.0.1 (a free port) with BUCKET created; the S3Config that reaches it."""
    # The server logs every request through werkzeug's logger: noise in a failing test's report.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        _host, port = server.get_host_and_port()
        config = S3Config(
            bucket=bucket,
            endpoint_url=f"http://127.0.0.1:{port}",
            region="us-east-1",
            addressing_style="path",
            prefix=prefix,
            **TEST_KEYS,
        )
        s3_client(config).create_bucket(Bucket=bucket)
        yield config
    finally:
        server.stop()


def s3_client(config: S3Config) -> Any:
    """A plain boto3 client for CONFIG's server (to look at the bucket behind Django's back)."""
    return boto3.client(
        "s3",
        endpoint_url=config.endpoint_url,
        region_name=config.region,
        aws_access_key_id=config.access_key_id,
        aws_secret_access_key=config.secret_access_key,
    )


def s3_storages(config: S3Config, current: dict[str, object]) -> dict[str, object]:
    """CURRENT (settings.STORAGES) with the default storage on CONFIG's bucket."""
    return {**current, "default": s3_storage(config)}


def s3_environment(config: S3Config) -> dict[str, str]:
    """The environment variables that select CONFIG's bucket (for a worker process)."""
    return {
        "CARELINE_STORAGE": "s3",
        "CARELINE_S3_BUCKET": config.bucket,
        "CARELINE_S3_ENDPOINT_URL": config.endpoint_url or "",
        "CARELINE_S3_REGION": config.region or "",
        "CARELINE_S3_ACCESS_KEY_ID": config.access_key_id or "",
        "CARELINE_S3_SECRET_ACCESS_KEY": config.secret_access_key or "",
        "CARELINE_S3_ADDRESSING_STYLE": config.addressing_style,
        "CARELINE_S3_PREFIX": config.prefix,
    }
