// Retries for AWS calls: p-retry on throttling, 5xx and network errors; never on other 4xx answers
// (a bad request stays bad). The SDK's own retries are off (maxAttempts 1) so this is the only layer.
import pRetry from 'p-retry';

const THROTTLING = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestThrottled', 'RequestThrottledException', 'SlowDown', 'PriorRequestNotComplete']);
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

export function isRetryable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; $fault?: string; cause?: { code?: string } };
  if (!e || typeof e !== 'object') return false;
  if (THROTTLING.has(e.name ?? '')) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  if (e.$fault === 'server') return true;
  if (NETWORK.has(e.code ?? '') || NETWORK.has(e.name ?? '') || NETWORK.has(e.cause?.code ?? '')) return true;
  return false;
}

export interface RetryOptions {
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
  onRetry?: (info: { attempt: number; error: Error; retriesLeft: number }) => void;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 6, minTimeoutMs: 100, maxTimeoutMs: 3000 };

export function checkRetryOptions(o: RetryOptions): RetryOptions {
  if (!Number.isInteger(o.retries) || o.retries < 0 || o.retries > 20) throw new TypeError(`retries must be an integer from 0 to 20, got ${o.retries}`);
  if (!(o.minTimeoutMs >= 0) || !(o.maxTimeoutMs >= o.minTimeoutMs)) throw new TypeError(`need 0 <= minTimeoutMs <= maxTimeoutMs, got ${o.minTimeoutMs} and ${o.maxTimeoutMs}`);
  return o;
}

export function withRetry<T>(fn: () => Promise<T>, o: RetryOptions = DEFAULT_RETRY): Promise<T> {
  return pRetry(fn, {
    retries: o.retries,
    minTimeout: o.minTimeoutMs,
    maxTimeout: o.maxTimeoutMs,
    factor: 2,
    randomize: true,
    shouldRetry: ({ error }) => isRetryable(error),
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (isRetryable(error) && retriesLeft > 0) o.onRetry?.({ attempt: attemptNumber, error, retriesLeft });
    },
  });
}
