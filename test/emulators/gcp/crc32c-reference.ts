// A bit-at-a-time CRC-32C, deliberately different from the provider's table-driven one, so the
// emulator's checksums do not share a bug with the code under test.
export function crc32c(data: Uint8Array): number {
  let crc = ~0 >>> 0;
  for (const b of data) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
  }
  return ~crc >>> 0;
}
