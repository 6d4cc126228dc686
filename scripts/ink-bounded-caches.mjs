// Ink keeps two caches for as long as the process lives: measure-text.js maps every text it has
// laid out to its size, and wrap-text.js every text, width and wrap mode to the text wrapped or
// truncated. Neither ever lets go, so a console scrolled through 100,000 users for an afternoon
// holds every row it has ever shown, twice.
//
// This esbuild plugin bounds both, in two generations: when the one being filled reaches LIMIT
// entries it becomes the old one and the oldest is let go, and an entry found in the old one is
// carried into the new. So each cache holds at most 2 × LIMIT entries, and what the last screens
// used stays (a screen of 24 rows lays out a few hundred texts). Each value is a pure function of
// its key, so what Ink draws does not change. It fails the build if Ink's code changes, so the
// change is never silently lost.
import {readFile} from 'node:fs/promises';
import {replaceOnce} from './replace-once.mjs';

/** Entries per generation. */
export const LIMIT = 4096;

const BOUNDED_MAP = `/** A map that keeps at most ${2 * LIMIT} entries, the ones used last (orgctl's ink-bounded-caches). */
class BoundedMap {
    current = new Map();
    previous = new Map();
    get(key) {
        let value = this.current.get(key);
        if (value === undefined) {
            value = this.previous.get(key);
            if (value !== undefined) this.set(key, value);
        }
        return value;
    }
    set(key, value) {
        if (this.current.size >= ${LIMIT}) {
            this.previous = this.current;
            this.current = new Map();
        }
        this.current.set(key, value);
    }
}
`;

const FILES = [
	{
		file: /[\\/]ink[\\/]build[\\/]measure-text\.js$/,
		replacements: [['const cache = new Map();\n', `${BOUNDED_MAP}const cache = new BoundedMap();\n`]],
	},
	{
		file: /[\\/]ink[\\/]build[\\/]wrap-text\.js$/,
		replacements: [
			['const cache = {};\n', `${BOUNDED_MAP}const cache = new BoundedMap();\n`],
			['    const cachedText = cache[cacheKey];\n', '    const cachedText = cache.get(cacheKey);\n'],
			['    cache[cacheKey] = wrappedText;\n', '    cache.set(cacheKey, wrappedText);\n'],
		],
	},
];

export const inkBoundedCaches = {
	name: 'ink-bounded-caches',
	setup(build) {
		for (const {file, replacements} of FILES) {
			build.onLoad({filter: file}, async args => {
				const source = await readFile(args.path, 'utf8');
				return {contents: replaceOnce(source, replacements, {plugin: 'ink-bounded-caches', path: args.path, what: 'whether Ink bounds its text caches'}), loader: 'js'};
			});
		}
	},
};
