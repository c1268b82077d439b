/** Progress lines on stderr while the benchmark runs (stdout stays free for the final summary). */
export type Progress = (message: string) => void;

export function stderrProgress(started = performance.now()): Progress {
  return (message) => {
    const seconds = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[bench ${seconds}s] ${message}\n`);
  };
}
