/**
 * Runs a task one at a time, folding repeated requests into one: a request while the task runs asks for one more
 * run after it (however many requests come meanwhile), so a burst of requests costs at most two runs and never
 * two at once. The returned promise settles when the run that covers the request has finished.
 */
export function coalescedRuns(
  task: () => Promise<void>,
  onError: (error: unknown) => void,
): () => Promise<void> {
  let loop: Promise<void> | undefined;
  let again = false;
  return () => {
    if (loop) {
      again = true;
      return loop;
    }
    loop = (async () => {
      try {
        do {
          again = false;
          await task().catch(onError);
        } while (again);
      } finally {
        loop = undefined;
      }
    })();
    return loop;
  };
}
