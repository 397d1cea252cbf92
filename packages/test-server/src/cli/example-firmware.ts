/** The firmware served when no file is given: the small signed archive of the fixtures, and its public key. */
import { smallFixtures } from '../fixtures/index.js';

export const EXAMPLE_FIRMWARE = smallFixtures.signed;
export const EXAMPLE_PUBLIC_KEY = smallFixtures.publicKey;
