import { readFileSync } from 'node:fs';

// The bundle defines this at build time; the unbundled build reads package.json next to dist/.
declare const NERVES_HUB_LINK_VERSION: string | undefined;

function packageVersion(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version: string }).version;
  } catch {
    return '0.0.0-unknown';
  }
}

export const VERSION: string =
  typeof NERVES_HUB_LINK_VERSION === 'string' ? NERVES_HUB_LINK_VERSION : packageVersion();
