/**
 * Snapshot and restore of a QuickJS instance's linear memory.
 *
 * What makes this sufficient: the QuickJS build exports no mutable globals and imports its memory,
 * so all C state (heap, malloc state incl. the sbrk break, QuickJS runtime/context, interrupt and
 * memory-limit settings) lives in linear memory. The one internal global, the shadow-stack pointer,
 * is back at its base whenever control is in the host between calls, provided no call trapped;
 * after a trap the instance is discarded instead of restored (see bash-instance.ts).
 * Memory never shrinks, so restore copies the snapshot back and zeroes everything above it.
 * `bytes` also seeds a brand-new instance (bash-instance.ts `BashInstance.clone`).
 */
export class MemorySnapshot {
  private readonly bytes: Uint8Array;

  constructor(private readonly memory: WebAssembly.Memory) {
    this.bytes = new Uint8Array(memory.buffer).slice();
  }

  get byteLength(): number {
    return this.bytes.byteLength;
  }

  /** The captured memory, read-only by convention (shared with clones as their starting point). */
  get captured(): Uint8Array {
    return this.bytes;
  }

  restore(): void {
    const view = new Uint8Array(this.memory.buffer);
    view.set(this.bytes);
    if (view.byteLength > this.bytes.byteLength) view.fill(0, this.bytes.byteLength);
  }
}
