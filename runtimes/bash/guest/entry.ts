/**
 * Bundle entry (see runtimes/bash/bundle.ts): builds the shell and installs the guest driver as
 * `__sandbox.bash`. The shims (runtimes/bash/shims) have already created `__sandbox`.
 */
import { createBashGuest } from "./driver.js";

declare const __sandbox: Record<string, unknown>;

__sandbox.bash = createBashGuest();
