// Types of lib/common/errors.js: the stable error codes. The runtime table is
// src/errors.rs (errorCodes()); __test__/types.spec.mjs checks this type against it.

/** The stable `code` of every error leakguard throws, keyed by short name. */
export declare const codes: Readonly<{
  INVALID_OPTION: 'ERR_LEAKGUARD_INVALID_OPTION'
  INVALID_ARGUMENT: 'ERR_LEAKGUARD_INVALID_ARGUMENT'
  INVALID_VALUE: 'ERR_LEAKGUARD_INVALID_VALUE'
  PANIC: 'ERR_LEAKGUARD_PANIC'
  IO: 'ERR_LEAKGUARD_IO'
  MALFORMED_SNAPSHOT: 'ERR_LEAKGUARD_MALFORMED_SNAPSHOT'
  TIMEOUT: 'ERR_LEAKGUARD_TIMEOUT'
  ABORTED: 'ERR_LEAKGUARD_ABORTED'
  OPTIONS_MISMATCH: 'ERR_LEAKGUARD_OPTIONS_MISMATCH'
  ENTRY_TOO_LARGE: 'ERR_LEAKGUARD_ENTRY_TOO_LARGE'
  SCOPE_CLOSED: 'ERR_LEAKGUARD_SCOPE_CLOSED'
  NO_SCOPE: 'ERR_LEAKGUARD_NO_SCOPE'
  LEFT_OPEN: 'ERR_LEAKGUARD_LEFT_OPEN'
  MISSING_PEER: 'ERR_LEAKGUARD_MISSING_PEER'
  PAYLOAD_RETAINED: 'ERR_LEAKGUARD_PAYLOAD_RETAINED'
}>
export type LeakGuardErrorCode = (typeof codes)[keyof typeof codes]
