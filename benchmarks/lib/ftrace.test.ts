import { describe, expect, it } from "vitest";
import { fsyncs, parseTrace, wakePlacement } from "./ftrace.js";

// Lines as this machine's tracefs printed them (trace_clock mono), cut from a traced execution.
const TRACE = `# tracer: nop
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
            node-30763   [001] ..... 26752.925792: sys_writev(fd: 0x1c, vec: 0x7fffb81c8118, vlen: 2)
            node-30763   [001] d..2. 26752.925836: sched_waking: comm=node pid=30780 prio=120 target_cpu=000
            node-30763   [001] d..3. 26752.925841: sched_wakeup: comm=node pid=30780 prio=120 target_cpu=001
            node-30780   [001] ..... 26752.926473: sys_fsync(fd: 0x11)
            <idle>-0     [000] d..2. 26752.926688: sched_waking: comm=node pid=30795 prio=120 target_cpu=000
            <idle>-0     [000] d..3. 26752.926690: sched_wakeup: comm=node pid=30795 prio=120 target_cpu=000
            node-30780   [001] ..... 26752.927061: sys_fsync -> 0x0
            kworker/1:1H-44    [001] d..2. 26752.927093: sched_switch: prev_comm=kworker/1:1H prev_pid=44 prev_prio=100 prev_state=I ==> next_comm=swapper/1 next_pid=0 next_prio=120
            node-30780   [001] d..2. 26752.927150: sched_waking: comm=node pid=30763 prio=120 target_cpu=001
            node-30780   [000] d..3. 26752.927160: sched_wakeup: comm=node pid=30763 prio=120 target_cpu=000
`;

describe("ftrace text", () => {
  const lines = parseTrace(TRACE);

  it("reads each event line's thread, CPU, time in ns and event, and skips the header", () => {
    expect(lines).toHaveLength(10);
    expect(lines[0]).toEqual({
      comm: "node",
      tid: 30763,
      cpu: 1,
      ns: 26752925792000n,
      event: "sys_writev(fd: 0x1c, vec: 0x7fffb81c8118, vlen: 2)",
    });
    expect(lines[7]?.comm).toBe("kworker/1:1H");
    expect(lines[7]?.tid).toBe(44);
  });

  it("times the fsyncs of the given threads only", () => {
    expect(fsyncs(lines, new Set([30780])).map((ms) => Math.round(ms * 1000) / 1000)).toEqual([0.588]);
    expect(fsyncs(lines, new Set([30795]))).toEqual([]);
  });

  it("counts where wake-ups to or from the given threads landed against the waker's CPU", () => {
    // 30763 woke 30780 on its own CPU; 30780 woke 30763 onto the other one; the idle task's wake-up
    // of 30795 counts only when 30795 is one of the threads.
    expect(wakePlacement(lines, new Set([30780]))).toEqual({ sameCpu: 1, otherCpu: 1 });
    expect(wakePlacement(lines, new Set([30780, 30795]))).toEqual({ sameCpu: 2, otherCpu: 1 });
  });
});
