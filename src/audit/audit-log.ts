/**
 * The audit sink: events go to the store (durably, before the step they record is treated as done),
 * then in-process listeners (long polls and SSE streams) are told. Callers either `emit` one event,
 * or build several with `event` and hand them to the store write that records the same steps (one
 * commit), then `publish` what the store returned. A failed write rejects with STORE_UNAVAILABLE and
 * the caller stops: a step that cannot be recorded does not happen.
 */
import type { ControlStore } from "../store/store.js";
import { type AuditEvent, type AuditEventInput, type AuditEventType, newEventId } from "./event.js";

export type AuditListener = (event: AuditEvent) => void;

export class AuditLog {
  private readonly listeners = new Map<string, Set<AuditListener>>();

  constructor(
    private readonly store: ControlStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** An event for a store write to commit; nothing is recorded until that write succeeds. */
  event(
    executionId: string,
    requestId: string,
    type: AuditEventType,
    fields: Readonly<Record<string, unknown>> = {},
  ): AuditEventInput {
    return { id: newEventId(), executionId, requestId, type, time: this.now(), fields };
  }

  /** Records one event on its own. */
  async emit(
    executionId: string,
    requestId: string,
    type: AuditEventType,
    fields: Readonly<Record<string, unknown>> = {},
  ): Promise<AuditEvent> {
    const [event] = await this.store.appendEvents([this.event(executionId, requestId, type, fields)]);
    if (!event) throw new Error("the store returned no event");
    this.publish([event]);
    return event;
  }

  /** Tells listeners about events the store has committed. */
  publish(events: readonly AuditEvent[] | undefined): void {
    for (const event of events ?? []) {
      for (const listener of this.listeners.get(event.executionId) ?? []) {
        try {
          listener(event);
        } catch {
          // A listener's failure (a closed stream) must not undo or block the recorded step.
        }
      }
    }
  }

  /** Calls `listener` for every event of `executionId` emitted from now on; returns the unsubscribe. */
  subscribe(executionId: string, listener: AuditListener): () => void {
    let set = this.listeners.get(executionId);
    if (!set) {
      set = new Set();
      this.listeners.set(executionId, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(executionId);
      current?.delete(listener);
      if (current?.size === 0) this.listeners.delete(executionId);
    };
  }

  listenerCount(executionId: string): number {
    return this.listeners.get(executionId)?.size ?? 0;
  }
}
