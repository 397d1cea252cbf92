/**
 * Back-pressure on a response body that undici's HTTP/1 parser survives whatever the connection does meanwhile.
 *
 * Pausing the parser (the dispatch controller's `pause()`) is what undici offers, but undici 7.30 asserts that the
 * parser is not paused when the socket ends or is reset (`assert(!this.paused)` in `Parser.finish`, called from the
 * socket's `end`, `error` and `close` handlers: nodejs/undici#5360, fixed upstream after 7.30): a host that closes
 * while a body waits for its file or for the bandwidth cap takes the whole process down with an uncaught
 * AssertionError. So the parser is never paused. Reading is held one level down instead: the socket's `readable`
 * listeners (undici's, which is how its parser reads in paused mode) are taken off, so nothing reads the socket;
 * its buffer fills to its high-water mark, Node stops reading the kernel, and TCP slows the sender, as a paused
 * parser would. The parser, not paused, handles an end, a reset or a close as it does any other time, and an end
 * that arrives while held waits in the socket until the listeners are back.
 *
 * What the parser had already taken from the socket when the hold began is still parsed and delivered (at most one
 * socket buffer): the caller takes it.
 */
import type { Socket } from 'node:net';

/** Stops whatever reads `socket` through `readable` events; the function returned puts it back (once). */
export function holdReading(socket: Socket): () => void {
  const readers = socket.rawListeners('readable') as ((...args: unknown[]) => void)[];
  for (const reader of readers) socket.removeListener('readable', reader);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    // A destroyed socket is read no more.
    if (socket.destroyed) return;
    for (const reader of readers) socket.on('readable', reader);
  };
}
