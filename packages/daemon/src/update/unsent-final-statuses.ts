/**
 * Final statuses that have not left the socket yet, oldest first, one entry per status. Until one has left, every
 * join names its update as `currently_downloading_uuid`, so the status lands on that update's server record
 * instead of on an empty one (a join without the uuid deletes the record, nerves_hub_web device_link.ex
 * maybe_clear_inflight_update).
 */
export class UnsentFinalStatuses {
  readonly #uuids: string[] = [];

  /** A final status of `uuid` is on its way; call the result once it has left or can never leave. */
  add(uuid: string): () => void {
    this.#uuids.push(uuid);
    let settled = false;
    return () => {
      if (settled) return;
      settled = true;
      const index = this.#uuids.indexOf(uuid);
      if (index !== -1) this.#uuids.splice(index, 1);
    };
  }

  /** The uuid of the newest status still waiting, if any. */
  get newest(): string | null {
    return this.#uuids.at(-1) ?? null;
  }
}
