/** True at most once per `intervalMs`: for a warning an outage would otherwise repeat on every request. */
export function oncePer(intervalMs: number, now: () => number = Date.now): () => boolean {
  let last = Number.NEGATIVE_INFINITY;
  return () => {
    const at = now();
    if (at - last < intervalMs) return false;
    last = at;
    return true;
  };
}
