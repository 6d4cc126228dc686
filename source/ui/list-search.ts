import {matchesWords, queryWords} from './list-state.js';

/**
 * The `/` filter of one list's rows: each row's lower-cased search text is built once per data
 * change and only when first needed (shortly after the first frame, or on the first filter key),
 * so start-up does not pay for it; a query that extends an earlier one searches only its
 * matches, and a query typed on the way to this one (a backspace) is not searched again.
 */
export type ListSearch<T> = {
	/** Builds the search texts now (a timer calls it after the first frame). */
	warm(): void;
	/** The rows that match every word of `query`, in order. */
	match(query: string): readonly T[];
};

export function listSearch<T>(items: readonly T[], text: ((item: T) => string) | undefined): ListSearch<T> {
	let texts: string[] | undefined;
	/**
	 * The matches of the queries typed on the way to the current one (each a prefix of it): a key
	 * that extends the query searches the longest one's matches, and a backspace finds its answer here
	 * instead of searching all the rows again (half the keys of typing and correcting a filter).
	 */
	let typed = new Map<string, {indices: number[]; rows: T[]}>();
	const warm = (): string[] => (texts ??= text ? textsOf(items, text) : []);
	return {
		warm() {
			warm();
		},
		match(query) {
			if (!text || query.trim() === '') return items;
			const values = warm();
			const known = typed.get(query);
			let found = known;
			if (!found) {
				let candidates: number[] | undefined;
				let longest = -1;
				for (const [earlier, result] of typed) {
					if (earlier.length > longest && query.startsWith(earlier)) {
						candidates = result.indices;
						longest = earlier.length;
					}
				}
				const indices: number[] = [];
				const rows: T[] = [];
				const words = queryWords(query);
				const consider = (i: number) => {
					if (matchesWords(values[i]!, words)) {
						indices.push(i);
						rows.push(items[i]!);
					}
				};
				if (candidates) for (const i of candidates) consider(i);
				else for (let i = 0; i < items.length; i++) consider(i);
				found = {indices, rows};
			}
			const kept = new Map<string, {indices: number[]; rows: T[]}>();
			for (const [earlier, result] of typed) if (earlier !== query && query.startsWith(earlier)) kept.set(earlier, result);
			kept.set(query, found);
			typed = kept;
			return found.rows;
		},
	};
}

/**
 * Each row's search text, per text function and row object: when the data changes, only the rows
 * that changed are lowered again (the store keeps the objects of records nobody touched), so a
 * change elsewhere does not cost 100,000 strings.
 */
const known = new WeakMap<(item: never) => string, WeakMap<object, string>>();

function textsOf<T>(items: readonly T[], text: (item: T) => string): string[] {
	let cache = known.get(text);
	if (!cache) known.set(text, (cache = new WeakMap()));
	const texts = new Array<string>(items.length);
	for (let i = 0; i < items.length; i++) {
		const item = items[i]!;
		const key: unknown = item;
		if (typeof key !== 'object' || key === null) {
			texts[i] = text(item).toLowerCase();
			continue;
		}
		let value = cache.get(key);
		if (value === undefined) cache.set(key, (value = text(item).toLowerCase()));
		texts[i] = value;
	}
	return texts;
}
