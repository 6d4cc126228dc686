import {scryptHasher} from '../../source/adapters/scrypt-hasher.js';

/**
 * Real scrypt at a cost of N=2^10 instead of 2^17 (about 2 ms instead of 300): for the tests that do
 * not measure hashing. Hashes carry their parameters, so the built orgctl checks them as usual.
 */
export const TEST_HASHER = scryptHasher({N: 2 ** 10, r: 8, p: 1});
