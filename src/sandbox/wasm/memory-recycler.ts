/**
 * One retired instance's linear memory, handed back for the next instance of the same memory limit
 * (a WebAssembly.Memory's maximum is fixed at creation) and the exact size a new instance starts
 * at (a memory that grew would show a guest more than a new one has). Whoever takes it rewrites
 * every byte before a new instance runs on it: runtimes/restored-spares.ts (to the snapshot) and
 * runtimes/javascript/instance-seed.ts (to zero). It only saves allocating and faulting in a new
 * memory, and the garbage collection of the old one.
 */
export class MemoryRecycler {
  private returned: { readonly memory: WebAssembly.Memory; readonly memoryLimitBytes: number } | undefined;
  private count = 0;

  /** `startBytes`: the size of a memory a new instance starts with. */
  constructor(private readonly startBytes: number) {}

  /** Hands back the memory of an instance nothing will call again; ignored unless it is `startBytes`. */
  give(memory: WebAssembly.Memory, memoryLimitBytes: number): void {
    if (memory.buffer.byteLength === this.startBytes) this.returned = { memory, memoryLimitBytes };
  }

  /** The handed-back memory if it was made for this limit; it is handed out once, and dropped otherwise. */
  take(memoryLimitBytes: number): WebAssembly.Memory | undefined {
    const memory = this.returned?.memoryLimitBytes === memoryLimitBytes ? this.returned.memory : undefined;
    this.returned = undefined;
    if (memory) this.count++;
    return memory;
  }

  /** Memories handed out again so far. */
  get recycled(): number {
    return this.count;
  }
}
