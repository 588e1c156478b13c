// What `keyway serve` runs: each frontend translates one outer protocol and can start and close.
export interface Frontend {
  readonly name: string;
  start(): Promise<void>;
  /** Stops accepting, lets in-flight work settle, releases resources. Idempotent. */
  close(): Promise<void>;
}
