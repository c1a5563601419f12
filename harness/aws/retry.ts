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

// 15 retries, 100 ms doubling to 4 s (randomized ×1–2): about 45–90 s before a call gives up. Even at
// a 50 % error rate (throttling plus 5xx) a call then fails about once in 50 000, so a fault's dozens of
// calls almost never exhaust it, and a revert that does still gets another pass (revertRun).
export const DEFAULT_RETRY: RetryOptions = { retries: 15, minTimeoutMs: 100, maxTimeoutMs: 4000 };

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
