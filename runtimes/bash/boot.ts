/**
 * The bash runtime's one-time boot, run by wasm.ts's `load()` in a Liftoff-only child process
 * (src/sandbox/wasm/boot-process.ts): one QuickJS instance evaluates shims + bundle, runs the
 * rehearsal script once (bash-instance.ts), and its snapshot becomes the seed every worker clones.
 *
 * Its own module, so the child imports only what a boot needs: importing wasm.ts (the runtime, the
 * boot-process and boot-cache machinery) cost the child ~90 ms of CPU, this module ~35 ms.
 */
import { BashInstance, type BashSeed, type BashSources } from "./bash-instance.js";
import { compileQuickJS } from "./quickjs-module.js";

/** The seed: one instance with shims + bundle evaluated and the rehearsal run, snapshotted. */
export async function bootBashSeed(sources: BashSources): Promise<BashSeed> {
  return (await BashInstance.create(await compileQuickJS(), sources)).seed();
}
