/** The print(1)-class program of each language, the request that runs it, and its expected output. */
import type { ExecutionRequest, Language } from "../../src/sandbox/types.js";

export const PRINT_ONE: Readonly<Record<Language, string>> = {
  javascript: "console.log(1)",
  ruby: "puts 1",
  python: "print(1)",
  bash: "echo 1",
};

export const EXPECTED_STDOUT = "1\n";

export function printOneRequest(language: Language): ExecutionRequest {
  return { language, code: PRINT_ONE[language], stdin: "", args: [], env: {}, files: [] };
}

/** The same program run by the native interpreter: argv for child_process.spawn. */
export const NATIVE_COMMANDS: Readonly<Record<Language, readonly [string, ...string[]]>> = {
  javascript: ["node", "-e", "console.log(1)"],
  ruby: ["ruby", "-e", "puts 1"],
  python: ["python3", "-c", "print(1)"],
  bash: ["bash", "-c", "echo 1"],
};
