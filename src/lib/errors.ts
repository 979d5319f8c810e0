/**
 * The catalogue of coded errors. Every code has an HTTP status and a line in docs/errors.md
 * (kept honest by test/unit/lib/errors.test.ts).
 */
export const ERRORS = {
  RG_ERR_CONFIG_INVALID: { status: 500, message: 'invalid configuration' },
  RG_ERR_RULES_INVALID: { status: 400, message: 'invalid rule file' },
  RG_ERR_INGEST_BAD_TOPIC: { status: 400, message: 'topic does not match rg/v1/{tenant}/{kind}/{deviceId}/{channel}' },
  RG_ERR_INGEST_UNKNOWN_DEVICE: { status: 404, message: 'device is not in the registry' },
  RG_ERR_INGEST_KIND_MISMATCH: { status: 400, message: 'topic kind differs from the registered kind' },
  RG_ERR_INGEST_MALFORMED_JSON: { status: 400, message: 'payload is not valid JSON' },
  RG_ERR_INGEST_SCHEMA_VIOLATION: { status: 400, message: 'payload violates the kind schema' },
  RG_ERR_INGEST_PAYLOAD_TOO_LARGE: { status: 413, message: 'payload exceeds the size limit' },
  RG_ERR_INGEST_TIMESTAMP_OUT_OF_WINDOW: { status: 400, message: 'device time outside the accepted window' },
  RG_ERR_API_BAD_REQUEST: { status: 400, message: 'request does not match the route schema' },
  RG_ERR_API_NOT_FOUND: { status: 404, message: 'no such resource' },
  RG_ERR_ALERT_INVALID_TRANSITION: { status: 409, message: 'the alert is not in a state that allows this action' },
  RG_ERR_AUTH_REQUIRED: { status: 401, message: 'a valid bearer token is required' },
  RG_ERR_AUTH_FORBIDDEN: { status: 403, message: 'the token may not access this resource' },
  RG_ERR_RATE_LIMITED: { status: 429, message: 'too many requests' },
  RG_ERR_INGEST_BACKPRESSURE: { status: 503, message: 'the store is behind and the spool is full' },
  RG_ERR_CONFLICT: { status: 409, message: 'the resource already exists or is in use' },
  RG_ERR_INTERNAL: { status: 500, message: 'internal error' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** An error that carries a catalogue code; thrown only off the hot path (config, rules, API). */
export class RiskgateError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ERRORS[code].message);
    this.name = 'RiskgateError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = details;
  }
}
