/**
 * A section's rows (a filtered, sorted view of one list of the store), kept up to date from one
 * version of the list to the next by what changed, not rebuilt: the store keeps the object of every
 * record a change did not touch (StorePort.subscribe), so comparing the list as it was with the list
 * as it is finds the records that left and entered it, and those are taken out of the rows and put
 * in their place by binary search. At 100,000 users a role changed elsewhere costs a walk over the
 * list, not a sort of it (484 ms of console CPU before, see the commit).
 *
 * Returns the function that maps a version of the list to its rows; it remembers the last one.
 * Where the two versions differ otherwise than by records replaced in place, added at the end or
 * removed (a list read whole again: every object is new), it builds the rows afresh with `build`.
 */
export function followRows<T extends object>(build: (list: readonly T[]) => T[], keep: (item: T) => boolean, compare: (a: T, b: T) => number): (list: readonly T[]) => readonly T[] {
	let last: {list: readonly T[]; rows: readonly T[]} | undefined;
	return list => {
		const change = last ? changeBetween(last.list, list) : undefined;
		const rows = last && change ? applyChange(last.rows, change, keep, compare) : build(list);
		last = {list, rows};
		return rows;
	};
}

type Change<T> = {readonly removed: ReadonlySet<T>; readonly added: readonly T[]};

/** Too many records changed: building the rows afresh is as cheap. */
const MOST_CHANGED = 1000;

/**
 * The records that left `before` and entered `after`, when `after` is `before` with some records
 * replaced in place, some removed, and some appended; undefined otherwise (or when too many changed).
 */
export function changeBetween<T>(before: readonly T[], after: readonly T[]): Change<T> | undefined {
	const removed = new Set<T>();
	const added: T[] = [];
	let a = 0;
	let b = 0;
	while (a < before.length && b < after.length) {
		if (before[a] === after[b]) {
			a++;
			b++;
			continue;
		}
		// Removed: the next record of `after` is further on in `before` (look a little ahead only).
		let skip = 1;
		while (skip <= 8 && a + skip < before.length && before[a + skip] !== after[b]) skip++;
		if (skip <= 8 && a + skip < before.length) {
			for (let i = 0; i < skip; i++) removed.add(before[a + i]!);
			a += skip;
			continue;
		}
		// Replaced in place.
		removed.add(before[a++]!);
		added.push(after[b++]!);
		if (removed.size + added.length > MOST_CHANGED) return undefined;
	}
	for (; a < before.length; a++) removed.add(before[a]!);
	for (; b < after.length; b++) added.push(after[b]!);
	if (removed.size + added.length > MOST_CHANGED) return undefined;
	// A record both "removed" and "added" was moved: the list was reordered.
	for (const record of added) if (removed.has(record)) return undefined;
	return {removed, added};
}

function applyChange<T>(rows: readonly T[], change: Change<T>, keep: (item: T) => boolean, compare: (a: T, b: T) => number): readonly T[] {
	if (change.removed.size === 0 && change.added.length === 0) return rows;
	return inPlace(rows, change, keep, compare) ?? moved(rows, change, keep, compare);
}

/**
 * The rows when every record that changed kept its place in the order (a role or an e-mail
 * changed, not the username): each is put where the record it replaces was, found by binary
 * search, and nothing else is looked at. Undefined when the change is of another kind.
 */
function inPlace<T>(rows: readonly T[], change: Change<T>, keep: (item: T) => boolean, compare: (a: T, b: T) => number): readonly T[] | undefined {
	const places: Array<[number, T]> = [];
	const shown = [...change.removed].filter(keep);
	const entering = change.added.filter(keep);
	if (shown.length !== entering.length) return undefined;
	const taken = new Set<number>();
	for (const record of entering) {
		const at = shown.findIndex((was, i) => !taken.has(i) && compare(was, record) === 0);
		if (at < 0) return undefined;
		taken.add(at);
		const row = indexOf(rows, shown[at]!, compare);
		if (row < 0) return undefined;
		places.push([row, record]);
	}
	// Only records these rows leave out changed: the rows are the same.
	if (places.length === 0) return rows;
	const next = rows.slice();
	for (const [row, record] of places) next[row] = record;
	return next;
}

/** Where `record` is in `rows` (sorted by `compare`), by binary search then among its equals; -1 when it is not there. */
function indexOf<T>(rows: readonly T[], record: T, compare: (a: T, b: T) => number): number {
	let low = 0;
	let high = rows.length;
	while (low < high) {
		const middle = (low + high) >>> 1;
		if (compare(rows[middle]!, record) < 0) low = middle + 1;
		else high = middle;
	}
	for (let i = low; i < rows.length && compare(rows[i]!, record) === 0; i++) if (rows[i] === record) return i;
	return -1;
}

/** The rows without those that left, with those that entered put in their place by binary search. */
function moved<T>(rows: readonly T[], change: Change<T>, keep: (item: T) => boolean, compare: (a: T, b: T) => number): readonly T[] {
	const next = change.removed.size === 0 ? [...rows] : rows.filter(row => !change.removed.has(row));
	for (const record of change.added) {
		if (!keep(record)) continue;
		let low = 0;
		let high = next.length;
		while (low < high) {
			const middle = (low + high) >>> 1;
			if (compare(next[middle]!, record) <= 0) low = middle + 1;
			else high = middle;
		}
		next.splice(low, 0, record);
	}
	return next;
}
