/** A synchronous stand-in for RunContext.http in runtime tests: records every request, answers with `answer`. */
import type { GuestHttpReply, GuestHttpRequest } from "../../src/sandbox/host-call.js";

export function recordingHost(answer: (request: GuestHttpRequest) => GuestHttpReply) {
  const calls: GuestHttpRequest[] = [];
  const http = (request: GuestHttpRequest): GuestHttpReply => {
    calls.push(request);
    return answer(request);
  };
  return { calls, http };
}
