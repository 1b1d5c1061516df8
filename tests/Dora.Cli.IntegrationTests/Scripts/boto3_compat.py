"""boto3 (Debian's python3-boto3) against Dora's S3 gateway: the calls pandas/s3fs-style users make.

Usage: boto3_compat.py ENDPOINT BUCKET WORKDIR   (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)
Prints one line per check; exits non-zero at the first that fails.
"""
import hashlib
import os
import sys

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main():
    endpoint, bucket, work = sys.argv[1:4]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))

    # Many keys, listed in pages by the paginator.
    for i in range(25):
        s3.put_object(Bucket=bucket, Key=f"paged/key-{i:02d}.txt", Body=f"value {i}".encode())
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="paged/", PaginationConfig={"PageSize": 10}):
        keys += [o["Key"] for o in page.get("Contents", [])]
    assert keys == [f"paged/key-{i:02d}.txt" for i in range(25)], keys
    print("list_objects_v2 paginator: 25 keys in pages of 10")

    # upload_file in parts, download_file in parallel ranged parts.
    source = os.path.join(work, "boto3-upload.bin")
    with open(source, "wb") as f:
        f.write(os.urandom(30 * 1024 * 1024 + 12345))
    config = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024, max_concurrency=4)
    s3.upload_file(source, bucket, "boto3/upload.bin", Config=config)
    target = os.path.join(work, "boto3-download.bin")
    s3.download_file(bucket, "boto3/upload.bin", target, Config=config)
    assert sha256(source) == sha256(target)
    print("upload_file (multipart) and download_file (ranged parts): sha256 equal")

    head = s3.head_object(Bucket=bucket, Key="boto3/upload.bin")
    assert head["ContentLength"] == os.path.getsize(source), head
    ranged = s3.get_object(Bucket=bucket, Key="boto3/upload.bin", Range="bytes=1000-1999")["Body"].read()
    with open(source, "rb") as f:
        f.seek(1000)
        assert ranged == f.read(1000)
    print("head_object and ranged get_object: exact")

    deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert len(deleted.get("Deleted", [])) == 25, deleted
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="paged/")
    print("delete_objects: 25 deleted")

    try:
        s3.get_object(Bucket=bucket, Key="boto3/missing")
        raise AssertionError("a missing key was served")
    except s3.exceptions.NoSuchKey:
        print("missing key: NoSuchKey")


if __name__ == "__main__":
    main()
