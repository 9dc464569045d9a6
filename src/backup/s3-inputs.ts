import { ConfigurationError } from '../errors.js';
import { InputSource, invalid, oneOf, parseBoolean } from '../inputs/parse.js';
import type { S3Settings } from './settings.js';

/** The `s3-*` inputs (action-backup, and action-preview's restore of a backup), checked. The keys are masked by the caller as it reads them. */
export function readS3Settings(input: InputSource, accessKeyId: string, secretAccessKey: string): S3Settings {
  if ((accessKeyId === '') !== (secretAccessKey === '')) {
    throw new ConfigurationError("Inputs 's3-access-key-id' and 's3-secret-access-key' go together: give both, or neither to use the runner's AWS credentials (e.g. from OIDC).");
  }
  const endpoint = input('s3-endpoint');
  if (endpoint !== '' && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(endpoint)) throw invalid('s3-endpoint', "must be a URL like 'https://s3.example.com' or 'http://127.0.0.1:9000'", endpoint);
  const region = input('s3-region') || 'us-east-1';
  if (!/^[a-z0-9-]+$/.test(region)) throw invalid('s3-region', "must be a region name like 'us-east-1' or 'auto'", region);
  const sse = input('s3-sse');
  return {
    endpoint: endpoint.replace(/\/+$/, ''),
    region,
    credentials: accessKeyId === '' ? undefined : { accessKeyId, secretAccessKey },
    forcePathStyle: parseBoolean('s3-force-path-style', input('s3-force-path-style')),
    sse: sse === '' ? undefined : oneOf('s3-sse', sse, ['AES256', 'aws:kms'] as const, 'AES256'),
  };
}
