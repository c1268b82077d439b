/**
 * Thrown by host code (an import, an output sink, a filesystem write) when the guest hit a limit.
 * Unwinds out of the guest; the instance is then discarded, never reused.
 */
export type GuestLimitCode = "TIMEOUT" | "MEMORY_LIMIT" | "OUTPUT_LIMIT" | "FILESYSTEM_LIMIT" | "SANDBOX_VIOLATION";

export class GuestLimitError extends Error {
  readonly code: GuestLimitCode;

  constructor(code: GuestLimitCode, message: string) {
    super(message);
    this.name = "GuestLimitError";
    this.code = code;
  }
}

export function isGuestLimitError(value: unknown): value is GuestLimitError {
  return value instanceof GuestLimitError;
}
