// The AWS SDK for JavaScript v3 (npm @aws-sdk/client-s3, @aws-sdk/lib-storage) against Dora's S3 gateway, with the
// SDK's default checksums. Usage: node js-sdk-compat.cjs ENDPOINT KEY SECRET BUCKET. Prints one line per check.
const crypto = require('crypto');
const { S3Client, PutObjectCommand, GetObjectCommand, ListObjectsV2Command, HeadObjectCommand, DeleteObjectCommand } = require('@aws-sdk/client-s3');
const { Upload } = require('@aws-sdk/lib-storage');

const [endpoint, accessKeyId, secretAccessKey, bucket] = process.argv.slice(2);
const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');

async function body(response) {
  return Buffer.from(await response.Body.transformToByteArray());
}

async function main() {
  const small = crypto.randomBytes(100_000);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'js/small.bin', Body: small }));
  const got = await body(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'js/small.bin' })));
  if (sha256(got) !== sha256(small)) throw new Error('small object differs');
  console.log('PutObject and GetObject: sha256 equal');

  const large = crypto.randomBytes(12 * 1024 * 1024 + 777);
  await new Upload({ client: s3, params: { Bucket: bucket, Key: 'js/large.bin', Body: large }, partSize: 5 * 1024 * 1024, queueSize: 2 }).done();
  const back = await body(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'js/large.bin' })));
  if (sha256(back) !== sha256(large)) throw new Error('large object differs');
  console.log('lib-storage Upload (multipart): sha256 equal');

  const range = await body(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'js/large.bin', Range: 'bytes=5242870-5242889' })));
  if (!range.equals(large.subarray(5242870, 5242890))) throw new Error('range differs');
  console.log('ranged GetObject: exact');

  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'js/' }));
  const keys = (listed.Contents || []).map((o) => o.Key);
  if (keys.join(',') !== 'js/large.bin,js/small.bin') throw new Error('listing: ' + keys);
  console.log('ListObjectsV2: both keys');

  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'js/small.bin' }));
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'js/small.bin' }));
    throw new Error('a deleted key was served');
  } catch (e) {
    if (e.$metadata?.httpStatusCode !== 404) throw e;
  }
  console.log('DeleteObject, then HeadObject: 404');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
