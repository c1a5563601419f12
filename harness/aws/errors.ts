// What to do about AWS errors a person must act on (not retried: p-retry gives up on them at once).
const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenRefreshRequired']);
const NO_CREDENTIALS = new Set(['CredentialsProviderError', 'InvalidClientTokenId', 'UnrecognizedClientException']);

/** A line saying what to do, or undefined when the error needs no advice. */
export function explainAwsError(err: unknown): string | undefined {
  const name = (err as { name?: string })?.name ?? '';
  if (EXPIRED.has(name)) {
    return `the AWS credentials expired (${name}): refresh them (aws sso login, re-assume the role, or a longer role-duration-seconds in CI), then run \`chaos recover\` at once — a fault may still be in place until it does`;
  }
  if (NO_CREDENTIALS.has(name)) return `no valid AWS credentials (${name}): check the profile, AWS_* variables or the pod's IRSA/Pod Identity role, then run \`chaos recover\``;
  return undefined;
}
