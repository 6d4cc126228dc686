import {matchesWords, queryWords} from './list-state.js';

/**
 * The `/` filter of one list's rows: each row's lower-cased search text is built when first
 * needed (as the filter opens, or on the first filter key), so start-up does not pay for it; a
 * query that extends an earlier one searches only its matches, and a query typed on the way to
 * this one (a backspace) is not searched again. After a change of the data the texts
 * are those of the search before, with the rows that changed lowered anew (see {@link listSearch}).
 */
export type ListSearch<T> = {
	/** Builds the search texts now (the list calls it as the filter opens). */
	warm(): void;
	/** The rows that match every word of `query`, in order (the list's own rows when all match). */
	match(query: string): Rows<T>;
	/** The texts built so far (or those it would start from), for the search of the next version of the rows. */
	built(): Built<T> | undefined;
};

/**
 * Rows read by position: a list's array itself, or the matches of a query read through their
 * indices, so that a key does not copy up to 100,000 rows into a new array (800 KB at 100,000
 * matches, which the next key makes garbage).
 */
export type Rows<T> = {readonly length: number; at(index: number): T | undefined};

/** The texts a search built, for the search of the next version of the rows. */
export type Built<T> = {readonly items: readonly T[]; readonly texts: readonly string[]; readonly text: (item: T) => string};

/**
 * The search of `items`. With `before` (the search of the rows as they were) its texts are
 * reused for every row object still there: the store keeps the object of every record a change
 * did not touch, so a change elsewhere lowers the few rows it touched, not 100,000 (one text per
 * row, in one array: no table from objects to texts is kept beside it).
 */
export function listSearch<T>(items: readonly T[], text: ((item: T) => string) | undefined, before?: ListSearch<T>): ListSearch<T> {
	let texts: readonly string[] | undefined;
	/** What the texts are built from until they are: the last texts built, of this list or an earlier version. */
	let base: Built<T> | undefined = text && before ? builtOf(before, text) : undefined;
	/**
	 * The matches of the queries typed on the way to the current one (each a prefix of it): a key
	 * that extends the query searches the fewest matches among those of a query whose words its own
	 * cover (see {@link covers}), and a backspace finds its answer here instead of searching all the
	 * rows again (half the keys of typing and correcting a filter).
	 */
	let typed = new Map<string, Matches<T>>();
	let joined: Joined | undefined;
	const warm = (): Texts => {
		if (texts && joined) return {texts, joined};
		texts = text ? (base && textsAfter(base, items, text)) ?? textsOf(items, text) : [];
		base = undefined;
		joined = joinTexts(texts);
		return {texts, joined};
	};
	return {
		built: () => (texts && text ? {items, texts, text} : base),
		warm() {
			warm();
		},
		match(query) {
			if (!text || query.trim() === '') return items;
			const values = warm();
			let found = typed.get(query);
			if (!found) {
				const words = queryWords(query);
				let candidates: Matches<T> | undefined;
				for (const result of typed.values()) {
					if (covers(words, result.words) && (!candidates || result.rows.length < candidates.rows.length)) candidates = result;
				}
				found = words.length === 0 ? {words, indices: undefined, rows: items} : matchesOf(items, values, words, candidates);
			}
			const kept = new Map<string, Matches<T>>();
			for (const [earlier, result] of typed) if (earlier !== query && query.startsWith(earlier)) kept.set(earlier, result);
			kept.set(query, found);
			typed = kept;
			return found.rows;
		},
	};
}

/**
 * The rows a query of `words` matched: their indices in the list's rows, or undefined when every
 * row matched (the rows are then the list's own array).
 */
type Matches<T> = {readonly words: readonly string[]; readonly indices: Int32Array | undefined; readonly rows: Rows<T>};

/** The matches of a query, read through their indices in the list's rows. */
class MatchedRows<T> implements Rows<T> {
	constructor(
		private readonly items: readonly T[],
		private readonly indices: Int32Array,
	) {}

	get length(): number {
		return this.indices.length;
	}

	at(index: number): T | undefined {
		const i = this.indices[index < 0 ? index + this.indices.length : index];
		return i === undefined ? undefined : this.items[i];
	}
}

/**
 * Whether every row that holds all of `words` holds all of `earlier` too, so that the matches of
 * a query of `words` are among those of `earlier`: each earlier word is part of one of them.
 * Decided on the lower-cased words, not on the queries as typed: a query that extends another
 * does not always lower to words that extend the other's ("Σ" at a word's end lowers to "ς", and
 * to "σ" once a letter follows it), and its matches are then no subset of the other's.
 */
function covers(words: readonly string[], earlier: readonly string[]): boolean {
	return earlier.every(part => words.some(word => word.includes(part)));
}

/**
 * Every row's text in one string, a line feed between each and the next, and where each starts
 * (one more entry: where the next would). A word holds no white space (queryWords), so an occurrence of it
 * in the string never runs across a line feed: it lies within the text of the row it starts in.
 * `text` is undefined when the string would be too long for V8 (rows are then searched one by one).
 */
type Joined = {readonly text: string | undefined; readonly offsets: Int32Array};

/** The texts of the rows, one by one and joined. */
type Texts = {readonly texts: readonly string[]; readonly joined: Joined};

/** Well below V8's longest string (2^29 - 24 characters on 64 bits). */
const LONGEST_JOINED = 2 ** 28;

function joinTexts(texts: readonly string[]): Joined {
	const offsets = new Int32Array(texts.length + 1);
	let length = 0;
	for (let i = 0; i < texts.length; i++) {
		offsets[i] = length;
		length += texts[i]!.length + 1;
		if (length > LONGEST_JOINED) return {text: undefined, offsets};
	}
	offsets[texts.length] = length;
	// The last row's line feed is left out (appending it would make a second string to flatten):
	// its end is still before offsets[texts.length].
	return {text: texts.join('\n'), offsets};
}

/** Where {@link matchesOf} collects indices before it knows how many match (grown, never shrunk: 4 bytes a row). */
let scratch = new Int32Array(0);

/**
 * The rows whose text holds every word, among `among` (the matches of a query whose words these
 * cover) or all rows. The indices are collected in one reused array and copied out at their exact
 * number (at 100,000 rows, growing two arrays one push at a time took 8 to 13 ms for a letter most
 * rows hold, this 2.7 to 3.1 ms); the rows are read through them, not copied out. When no row is
 * left out (a letter every e-mail address holds), the rows are those searched: the list's own, or
 * the earlier matches, with no copy.
 */
function matchesOf<T>(items: readonly T[], {texts, joined}: Texts, words: readonly string[], among: Matches<T> | undefined): Matches<T> {
	const candidates = among?.indices;
	const most = candidates ? candidates.length : items.length;
	if (scratch.length < most) scratch = new Int32Array(most);
	const found = scratch;
	let count = 0;
	if (joined.text !== undefined && (candidates === undefined || candidates.length * JOINED_FROM >= items.length)) {
		count = joinedMatches(joined.text, joined.offsets, texts, words, candidates, found);
	} else {
		const only = words.length === 1 ? words[0]! : undefined;
		for (let k = 0; k < most; k++) {
			const i = candidates ? candidates[k]! : k;
			if (only === undefined ? matchesWords(texts[i]!, words) : texts[i]!.includes(only)) found[count++] = i;
		}
	}
	if (count === most) return {words, indices: candidates, rows: among?.rows ?? items};
	const indices = found.slice(0, count);
	return {words, indices, rows: new MatchedRows(items, indices)};
}

/**
 * Earlier matches that are at least this fraction of the rows (1/8) are searched in the joined
 * texts; fewer are tested one by one, since one search of the joined texts may run on through
 * many rows that are not among them before it finds the next occurrence.
 */
const JOINED_FROM = 8;

/**
 * The rows (among `candidates`, else all) whose text holds every word, found by searching the
 * joined texts for the longest word: V8's indexOf runs through the characters of many rows in one
 * call, where a call per row (includes) costs more than the row's own characters. At 100,000
 * users, "ad" over all rows took 7.0 ms one row at a time and 4.3 ms joined; a word no row holds
 * 3.3 ms and 0.1 ms (node micro-benchmark, CPU time). After an occurrence, the search goes on from
 * the next row to consider: the start of the next row, or of the next candidate. The other words are
 * tested on the row's own text. Returns how many indices it wrote to `found`, in order.
 */
function joinedMatches(all: string, offsets: Int32Array, texts: readonly string[], words: readonly string[], candidates: Int32Array | undefined, found: Int32Array): number {
	let anchor = words[0]!;
	for (const word of words) if (word.length > anchor.length) anchor = word;
	const rest = words.filter(word => word !== anchor);
	const rows = texts.length;
	let count = 0;
	/** The next candidate (an index into `candidates`), and the row the search starts at. */
	let next = 0;
	let row = candidates ? candidates[0] : 0;
	while (row !== undefined && row < rows) {
		const at = all.indexOf(anchor, offsets[row]);
		if (at === -1) break;
		// The row the occurrence is in: at or after `row`.
		let hit = row;
		while (offsets[hit + 1]! <= at) hit++;
		if (candidates) {
			while (next < candidates.length && candidates[next]! < hit) next++;
			if (candidates[next] !== hit) {
				row = candidates[next];
				continue;
			}
			next++;
			row = candidates[next];
		} else {
			row = hit + 1;
		}
		if (rest.length === 0 || matchesWords(texts[hit]!, rest)) found[count++] = hit;
	}
	return count;
}

/**
 * The function that makes the search of each version of a list's rows, remembering the last: while
 * the filter is `inUse` a search starts from the texts of the one before; otherwise it starts
 * from nothing, so no texts are held for a list nobody filters.
 */
export function followSearch<T>(text: ((item: T) => string) | undefined): (items: readonly T[], inUse: boolean) => ListSearch<T> {
	let last: ListSearch<T> | undefined;
	return (items, inUse) => (last = listSearch(items, text, inUse ? last : undefined));
}

function builtOf<T>(search: ListSearch<T>, text: (item: T) => string): Built<T> | undefined {
	const built = search.built();
	return built && built.text === text ? built : undefined;
}

/** Too many rows changed: lowering all of them afresh is as cheap. */
const MOST_CHANGED = 1000;

/**
 * The texts of `items` from those of `base.items`: a row object found in both (in the same order,
 * a few removed or added between) keeps its text; any other row is lowered now. Undefined when
 * more than {@link MOST_CHANGED} rows are new.
 */
function textsAfter<T>(base: Built<T>, items: readonly T[], text: (item: T) => string): string[] | undefined {
	const old = base.items;
	const texts = new Array<string>(items.length);
	let fresh = 0;
	let a = 0;
	for (let b = 0; b < items.length; b++) {
		const item = items[b]!;
		if (a < old.length && old[a] === item) {
			texts[b] = base.texts[a++]!;
			continue;
		}
		// Removed before it: the row is a little further on in the old list.
		let skip = 1;
		while (skip <= 8 && a + skip < old.length && old[a + skip] !== item) skip++;
		if (skip <= 8 && a + skip < old.length) {
			a += skip;
			texts[b] = base.texts[a++]!;
			continue;
		}
		if (++fresh > MOST_CHANGED) return undefined;
		texts[b] = text(item).toLowerCase();
		// Replaced in place, unless it was inserted before the old row (which then comes next).
		if (items[b + 1] !== old[a]) a++;
	}
	return texts;
}

function textsOf<T>(items: readonly T[], text: (item: T) => string): string[] {
	const texts = new Array<string>(items.length);
	for (let i = 0; i < items.length; i++) texts[i] = text(items[i]!).toLowerCase();
	return texts;
}
