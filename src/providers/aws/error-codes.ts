// AWS error types (the `__type` of JSON APIs) as keyway codes, for Secrets Manager and SSM.
import type { ErrorCode } from '../../core/errors.js';

const AWS_ERROR_CODES: Readonly<Record<string, ErrorCode>> = {
  ResourceNotFoundException: 'not_found',
  ParameterNotFound: 'not_found',
  ParameterVersionNotFound: 'not_found',
  AccessDeniedException: 'permission_denied',
  AccessDenied: 'permission_denied',
  // Secrets Manager cannot decrypt with the secret's KMS key: almost always a missing kms:Decrypt grant.
  DecryptionFailure: 'permission_denied',
  InvalidKeyId: 'permission_denied',
  UnrecognizedClientException: 'unauthenticated',
  InvalidSignatureException: 'unauthenticated',
  // The JSON services and the SDKs spell these with the suffix; the query APIs without.
  IncompleteSignature: 'unauthenticated',
  IncompleteSignatureException: 'unauthenticated',
  MissingAuthenticationToken: 'unauthenticated',
  MissingAuthenticationTokenException: 'unauthenticated',
  InvalidClientTokenId: 'unauthenticated',
  ExpiredTokenException: 'unauthenticated',
  ExpiredToken: 'unauthenticated',
  SignatureDoesNotMatch: 'unauthenticated',
  ThrottlingException: 'throttled',
  Throttling: 'throttled',
  TooManyRequestsException: 'throttled',
  RequestLimitExceeded: 'throttled',
  TooManyUpdates: 'throttled',
  InternalServiceError: 'unavailable',
  InternalServerError: 'unavailable',
  InternalFailure: 'unavailable',
  ServiceUnavailable: 'unavailable',
  InvalidParameterException: 'invalid_argument',
  ValidationException: 'invalid_argument',
  // GetSecretValue on a secret scheduled for deletion, among other state conflicts.
  InvalidRequestException: 'failed_precondition',
};

export function awsErrorCode(type: string): ErrorCode | undefined {
  return Object.hasOwn(AWS_ERROR_CODES, type) ? AWS_ERROR_CODES[type] : undefined;
}
